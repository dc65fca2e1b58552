// tap.cc - main() for every test binary: GTest, reported as TAP for prove.
#include <cstdio>
#include <string>

#include <gtest/gtest.h>

namespace {

// The first line of a skipped test's message (GTEST_SKIP() << why).
std::string skip_reason(const testing::TestResult *r)
{
	for (int i = 0; i < r->total_part_count(); i++) {
		const testing::TestPartResult &p = r->GetTestPartResult(i);
		if (!p.skipped())
			continue;
		std::string m = p.message() ? p.message() : "";
		if (m.rfind("Skipped", 0) == 0)
			m = m.substr(m.find('\n') == std::string::npos ?
					     m.size() :
					     m.find('\n') + 1);
		return m.substr(0, m.find('\n'));
	}
	return "";
}

// One "ok"/"not ok" line per test, failures as "#" diagnostics.
class TapListener : public testing::EmptyTestEventListener {
	int n_ = 0;

	void OnTestProgramStart(const testing::UnitTest &ut) override
	{
		printf("1..%d\n", ut.test_to_run_count());
		fflush(stdout);
	}

	void OnTestPartResult(const testing::TestPartResult &r) override
	{
		if (!r.failed())
			return;
		std::string msg = r.message();
		printf("# %s:%d\n", r.file_name() ? r.file_name() : "?",
		       r.line_number());
		size_t start = 0;
		while (start <= msg.size()) {
			size_t end = msg.find('\n', start);
			if (end == std::string::npos)
				end = msg.size();
			printf("#   %s\n",
			       msg.substr(start, end - start).c_str());
			start = end + 1;
		}
	}

	void OnTestEnd(const testing::TestInfo &t) override
	{
		const testing::TestResult *r = t.result();
		n_++;
		if (r->Skipped())
			printf("ok %d - %s.%s # SKIP %s\n", n_,
			       t.test_suite_name(), t.name(),
			       skip_reason(r).c_str());
		else
			printf("%s %d - %s.%s\n", r->Passed() ? "ok" : "not ok",
			       n_, t.test_suite_name(), t.name());
		fflush(stdout);
	}
};

} // namespace

int main(int argc, char **argv)
{
	testing::InitGoogleTest(&argc, argv);
	testing::TestEventListeners &l =
		testing::UnitTest::GetInstance()->listeners();
	delete l.Release(l.default_result_printer());
	l.Append(new TapListener);
	return RUN_ALL_TESTS();
}
