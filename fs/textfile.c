/* textfile.c - files whose text is made at open (see textfile.h). */
#include <sys/stat.h>
#include <time.h>

#include "caller.h"
#include "caller_limits.h"
#include "textfile.h"

struct shm_handle {
	GString *text;
	uid_t uid; /* whose share holds it */
};

void shmfs_text_attr(struct timespec born, uint64_t size, struct shm_attr *out)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	*out = (struct shm_attr){ .mode = S_IFREG | 0444,
				  .size = size,
				  .atime = now,
				  .mtime = now,
				  .ctime = born };
}

int shmfs_text_open(GString *text, struct shm_handle **out)
{
	uid_t uid = shm_caller() ? shm_caller()->uid : 0;
	int r = shmfs_text_take(uid, text->len);

	if (r) {
		g_string_free(text, TRUE);
		return r;
	}
	*out = g_new0(struct shm_handle, 1);
	(*out)->text = text;
	(*out)->uid = uid;
	return 0;
}

void shmfs_text_close(struct shm_handle *h)
{
	if (!h)
		return;
	shmfs_text_give(h->uid, h->text->len);
	g_string_free(h->text, TRUE);
	g_free(h);
}

size_t shmfs_text_len(const struct shm_handle *h)
{
	return h->text->len;
}

int shmfs_text_read(struct shm_handle *h, uint64_t off, size_t size,
		    struct shm_extent *out)
{
	*out = (struct shm_extent){ .fd = -1 };
	if (off >= h->text->len)
		return 0;
	out->mem = h->text->str + off;
	out->len = MIN(size, h->text->len - off);
	return 0;
}
