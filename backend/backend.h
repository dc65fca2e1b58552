/* backend.h - the interface the FUSE front calls, one instance per kind.
 *
 * A backend knows one kind of shared memory segment (System V, POSIX, ...)
 * and nothing of FUSE.  Every path it is given is relative to the kind's own
 * directory in the mount ("" is that directory, "42" a segment in it).
 * Every function returns 0 (or a count) on success and -errno on failure;
 * the front turns that into exactly one reply.
 *
 * Errors a caller must be able to rely on:
 *   -ENOENT   no such segment (never existed, removed, unparsable name)
 *   -EACCES/-EPERM  refused by the kernel's own rules for that kind
 *   -ENOSPC   write past the end of a segment that cannot grow
 *   -EFBIG    truncate beyond the size of a segment that cannot grow
 *   -EINVAL   a name or argument the kind can never accept
 *   -ENOTSUP  the kind has no such operation
 *
 * An operation marked "may be NULL" can be left out: every caller goes
 * through the shm_be_* functions at the end of this file, which answer
 * for a missing one, in one place, with the errno given there.  The
 * handle operations (close, fstat, read) must be set wherever open or
 * create is.
 */
#ifndef SHMFS_BACKEND_H
#define SHMFS_BACKEND_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <glib.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What stat shows: kind-neutral, filled by a backend. */
struct shm_attr {
	mode_t mode;   /* file type and permission bits */
	nlink_t nlink; /* 0: removed (still open); unset: 1, 2 for dirs */
	bool nlink_set;
	uid_t uid;
	gid_t gid;
	uint64_t size;
	uint64_t blocks; /* 512-byte units */
	dev_t rdev;	 /* a device node's numbers */
	struct timespec atime, mtime, ctime;
	/* Marked for removal but still reachable through open handles
	 * (SysV SHM_DEST): not listed, not found by name. */
	bool gone;
	/* Which object the name means now, where a name can come to mean
	 * another one (a POSIX object removed and made again): its device
	 * and inode number.  0 where the name alone tells (a shmid). */
	uint64_t ident_dev, ident_ino;
	/* The IPC namespace (nsfs inode) of an object whose identity
	 * repeats in every namespace (a System V segment); else 0. */
	uint64_t ident_ns;
	/* Tells apart objects whose identity above can come back: the
	 * kernel reuses the inode numbers of dead namespaces, so a System V
	 * segment also gives its creator's pid.  0 where none is needed. */
	uint64_t ident_gen;
	/* A named semaphore (sem_open's file), not a segment of its own:
	 * counted apart. */
	bool semaphore;
	/* These change with no call through the mount (the events file
	 * grows): the kernel keeps them for no time. */
	bool uncached;
};

/* One entry of a listing; name and target are owned by the array (see
 * shm_dirents_new). */
struct shm_dirent {
	char *name;
	struct shm_attr attr;
	/* A link's target as the listing saw it, or NULL (then readlink
	 * asks the kind): what `ls -l` reads right after listing. */
	char *target;
};

/* The kernel's metadata of one segment, for the user.shm.* xattrs.
 * Only the fields whose SHM_META_* bit is set in `have` are known. */
enum {
	SHM_META_ID = 1u << 0,
	SHM_META_KEY = 1u << 1,
	SHM_META_SIZE = 1u << 2,
	SHM_META_PERMS = 1u << 3,
	SHM_META_OWNER = 1u << 4,   /* uid, gid */
	SHM_META_CREATOR = 1u << 5, /* cuid, cgid */
	SHM_META_PIDS = 1u << 6,    /* cpid, lpid */
	SHM_META_NATTCH = 1u << 7,
	SHM_META_TIMES = 1u << 8, /* atime, dtime, ctime */
	SHM_META_STATUS = 1u << 9,
	SHM_META_MEMORY = 1u << 10,  /* rss, swap */
	SHM_META_MAPPERS = 1u << 11, /* pids (and nattch where the kernel
				      * keeps no count): a /proc scan */
	SHM_META_PATH = 1u << 12,
	SHM_META_COMMAND = 1u << 13, /* the creator's command line: read
				      * from /proc, only when asked */
	SHM_META_SEM = 1u << 14,     /* a named semaphore: name, value */
	SHM_META_CPID = 1u << 15,    /* cpid alone: System V's, and a POSIX
				      * object's where the watcher saw who
				      * made it */
};

/* What lsipc's STATUS column shows, from the segment's mode bits. */
enum {
	SHM_STATUS_DEST = 1u << 0,
	SHM_STATUS_LOCKED = 1u << 1,
	SHM_STATUS_HUGETLB = 1u << 2,
	SHM_STATUS_NORESERVE = 1u << 3,
};

struct shm_meta {
	unsigned have;
	long long id;
	uint32_t key;
	uint64_t size;
	mode_t perms;
	uid_t uid, cuid;
	gid_t gid, cgid;
	pid_t cpid, lpid;
	uint64_t nattch;
	long long atime, dtime, ctime; /* seconds since the epoch, 0 = never */
	unsigned status;
	uint64_t rss, swap;	 /* bytes */
	GArray *pids;		 /* pid_t, ascending: who maps it now */
	char *path;		 /* the real file */
	char *command;		 /* SHM_META_COMMAND: the creator's command
				  * line, kept after it is gone (creators.h) */
	char *creator_container; /* SHM_META_COMMAND: the
				  * creator's container id, or "" */
	/* SHM_META_COMMAND: that container's name (docker ps's NAMES), or "" */
	char *creator_container_name;
	char *sem_name;	    /* SHM_META_SEM: the name sem_open takes */
	uint32_t sem_value; /* SHM_META_SEM: what sem_getvalue gives */
	/* user.shm.kind where it is not the backend's name (a namespace's
	 * segments under ns/); static. */
	const char *kind;
};

/* Limits and use of a kind's directory (the user.shm.limit.* and
 * user.shm.used.* attributes of sysv/ and posix/): only the fields of the
 * SHM_DIR_* group in `have` are known. */
enum {
	SHM_DIR_SYSV = 1u << 0,	 /* IPC_INFO and SHM_INFO, as ipcs -l, -u */
	SHM_DIR_FILES = 1u << 1, /* a directory of files: statvfs, count */
	SHM_DIR_NS = 1u << 2,	 /* an IPC namespace's directory (ns/) */
};

struct shm_dir_usage {
	unsigned have;
	uint64_t shmmax, shmall, shmmni, shmmin; /* bytes, pages, ids, bytes */
	uint64_t segments, pages, resident, swapped; /* ids, pages */
	uint64_t bytes_total, bytes_used, inodes_total, inodes_used, objects;
	/* SHM_DIR_NS: whose namespace it is (user.shm.ns.*). */
	GArray *ns_pids;	 /* pid_t, ascending: its processes */
	char *ns_command;	 /* the lowest pid's command line */
	char *ns_container;	 /* its container's id, "" if none */
	char *ns_container_name; /* its name (docker ps's NAMES), or "" */
};

/* Free what a usage owns (the SHM_DIR_NS fields). */
void shm_dir_usage_clear(struct shm_dir_usage *u);
typedef struct shm_dir_usage shm_dir_usage;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(shm_dir_usage, shm_dir_usage_clear)

/* Free what a meta owns (pids, path). */
void shm_meta_clear(struct shm_meta *m);
typedef struct shm_meta shm_meta;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(shm_meta, shm_meta_clear)

/* Where the bytes of a read are: either memory the backend keeps valid until
 * the handle is closed, or memory of this read alone (owned, which the
 * caller g_free()s once it has sent the bytes: how a kind whose bytes
 * change stays safe under concurrent reads of one handle), or a file
 * descriptor and offset to read from. */
struct shm_extent {
	const void *mem; /* NULL when fd is used */
	int fd;
	uint64_t off;
	size_t len;
	void *owned; /* mem, when it is this read's own; else NULL */
};

/* Free what an extent owns. */
static inline void shm_extent_clear(struct shm_extent *x)
{
	g_clear_pointer(&x->owned, g_free);
}
typedef struct shm_extent shm_extent;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(shm_extent, shm_extent_clear)

/* What a kind hands the front for FUSE passthrough: a descriptor whose
 * pages are the segment's own (the segment's memory file, the POSIX
 * object, the mapped file itself), for the kernel to read, write and map
 * directly. */
struct shm_backing {
	int fd;	       /* new descriptor, the caller closes it */
	bool writable; /* fd is open for writing */
	/* read and write must still come to the daemon (a System V segment
	 * has a fixed size that a write passed through could grow); only
	 * mmap goes to fd. */
	bool writes_to_daemon;
};

/* What setattr changes; the rest is left as it is. */
struct shm_set {
	int mode;		      /* permission bits, or -1 */
	uid_t uid;		      /* or (uid_t)-1 */
	gid_t gid;		      /* or (gid_t)-1 */
	const struct timespec *times; /* atime, mtime (UTIME_NOW/OMIT as
				       * utimensat), or NULL */
};

/* A change to the names of a kind's tree (see the tree operation). */
enum shm_tree_what {
	SHM_MKDIR,   /* path: mode, uid, gid */
	SHM_RMDIR,   /* path */
	SHM_SYMLINK, /* path -> to (the link's text): uid, gid */
	SHM_MKNOD,   /* path: mode (a FIFO, socket or device), rdev, uid, gid */
	SHM_LINK,    /* a new name `to` for path */
	SHM_RENAME,  /* path becomes `to`: flags as renameat2 */
};

struct shm_tree_op {
	enum shm_tree_what what;
	const char *path; /* relative to the kind's directory, as every path */
	const char *to;
	mode_t mode; /* file type and permission bits, umask applied */
	dev_t rdev;
	unsigned flags; /* RENAME_NOREPLACE, RENAME_EXCHANGE */
	uid_t uid;	/* the caller's: owner of what is made */
	gid_t gid;
};

/* Usage and limits for statfs, added up over every backend. */
struct shm_usage {
	uint64_t total_bytes;
	uint64_t used_bytes;
	uint64_t total_files;
	uint64_t free_files;
};

/* An open segment; each backend defines its own. */
struct shm_handle;

struct shmfs_config {
	const char *posix_dir;	     /* default /dev/shm */
	const char *const *map_dirs; /* --map-dir, NULL-terminated or NULL */
	bool all_namespaces;	     /* ns/ is served: watch every namespace */
	bool no_trace; /* -o trace=off: no eBPF, creators from /proc only */
	/* -o trace=syscalls: the tracer on every system call's tracepoints,
	 * not on the calls' own functions (trace.h) */
	bool trace_syscalls;
};

struct shmfs_backend {
	/* The directory name in the mount, also user.shm.kind. */
	const char *name;
	/* Served without the page cache and never passed through: a file
	 * made when it is opened, whose size is not known before. */
	bool direct;
	/* Read in order only, from where the last read stopped (the events
	 * file): no seek. */
	bool stream;
	/* Its regular files are segments of their own (not views of
	 * another kind's): shmfs.prom counts them by kind, and unused/KIND
	 * lists those nobody uses. */
	bool segments;

	/* Set up from the mount options; 0 or -errno.  Called once.  May be
	 * NULL (nothing to set up), as may fini. */
	int (*init)(const struct shmfs_config *cfg);
	void (*fini)(void);

	/* Append the entries of directory `dir` to `out` (shm_dirent).
	 * May be NULL: -ENOTDIR (the kind is one file). */
	int (*list)(const char *dir, GArray *out);
	/* Attributes without attaching or opening: looking changes nothing. */
	int (*stat)(const char *path, struct shm_attr *out);
	/* Metadata.  `have` tells every field the kind has; the costly ones
	 * (SHM_META_MAPPERS) are only filled when `want` asks for them.
	 * May be NULL: -ENODATA (no user.shm.* attributes). */
	int (*meta)(const char *path, unsigned want, struct shm_meta *out);
	/* The target of a symlink, newly allocated; -EINVAL if not one.
	 * May be NULL: -EINVAL (the kind has no links). */
	int (*readlink)(const char *path, char **out);

	/* Open an existing segment with open(2) flags (O_ACCMODE, O_TRUNC).
	 * May be NULL: -EPERM (nothing to open: links only). */
	int (*open)(const char *path, int flags, struct shm_handle **out);
	/* Create `name` in `dir` owned by uid:gid; flags as open(2), O_EXCL
	 * honoured.  -EPERM where the kind cannot create by that name (a
	 * System V shmid is the kernel's to choose).  May be NULL: -EPERM. */
	int (*create)(const char *dir, const char *name, mode_t mode, int flags,
		      uid_t uid, gid_t gid, struct shm_handle **out);
	void (*close)(struct shm_handle *h);
	int (*fstat)(struct shm_handle *h, struct shm_attr *out);
	/* Describe where up to `size` bytes at `off` are; len 0 at the end. */
	int (*read)(struct shm_handle *h, uint64_t off, size_t size,
		    struct shm_extent *out);
	/* Bytes written (short at a fixed end), or -errno.  May be NULL:
	 * -EBADF (the kind opens read-only), as may write_changed. */
	ssize_t (*write)(struct shm_handle *h, const void *buf, size_t size,
			 uint64_t off);
	/* Write only the bytes of buf that differ from old (both `size`
	 * long), leaving every other byte of the range as it is now, even if
	 * it changed since old was read: how a page written back from a
	 * mapping merges with native writes.  Bytes written (short at the
	 * end), or -errno. */
	ssize_t (*write_changed)(struct shm_handle *h, const void *buf,
				 const void *old, size_t size, uint64_t off);

	/* fallocate(2) on h's segment: mode as fallocate's (allocate,
	 * FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE); the kind's own answers
	 * (a System V segment cannot grow: -ENOSPC past its end).  May be
	 * NULL: -EOPNOTSUPP. */
	int (*fallocate)(struct shm_handle *h, int mode, uint64_t off,
			 uint64_t len);
	/* lseek(2) SEEK_DATA or SEEK_HOLE on h: the offset, or -ENXIO past
	 * the end.  May be NULL, or answer -ENOSYS for a handle: then all of
	 * the file is data, its end the one hole (as for any file without
	 * holes). */
	int64_t (*seek)(struct shm_handle *h, int64_t off, int whence);

	/* The descriptor FUSE passthrough can hand the kernel for h's
	 * segment: 0 and *out filled, -ENOTSUP when there is none now (a
	 * by-key/ file whose segment is not made yet), or -errno.  May be
	 * NULL: -ENOTSUP (the kind never has one). */
	int (*backing)(struct shm_handle *h, struct shm_backing *out);

	/* h may be NULL; when given it is the open handle of path.  May be
	 * NULL: -EPERM, as may remove and setattr (nothing to change). */
	int (*truncate)(const char *path, struct shm_handle *h, uint64_t size);
	int (*remove)(const char *path);
	/* Mode, owner and times in one step.  -EINVAL for mode bits the kind
	 * cannot keep; -EPERM for times where the kind keeps none. */
	int (*setattr)(const char *path, const struct shm_set *set);
	/* Make, remove, link or move a name (struct shm_tree_op), with the
	 * answers of the kind's own directory (a tmpfs for posix/).  What is
	 * made is owned as the caller would own it.  May be NULL: -EPERM,
	 * and -EXDEV for a rename (mv then copies). */
	int (*tree)(const struct shm_tree_op *op);

	/* Add this kind's usage and limits to *acc.  May be NULL: adds
	 * nothing (counted where its segments live). */
	int (*statfs)(struct shm_usage *acc);
	/* The limits and use of directory dir; -ENODATA for a directory
	 * that has none.  May be NULL: -ENODATA. */
	int (*dir_usage)(const char *dir, struct shm_dir_usage *out);
};

extern const struct shmfs_backend sysv_backend;
extern const struct shmfs_backend posix_backend;
extern const struct shmfs_backend mapped_backend;
extern const struct shmfs_backend unused_backend;
extern const struct shmfs_backend ns_backend;

/* Segments made and removed, as the daemon notices them (watch.c): a
 * thread watches every POSIX directory with inotify and asks each IPC
 * namespace's System V table at a bounded rate; a listing that sees a
 * change first reports it first.  One event per change, in order for
 * each segment. */
struct shm_event {
	bool created;	       /* else removed */
	const char *kind;      /* "sysv" or "posix" */
	uint64_t ns;	       /* the IPC namespace's inode number */
	const char *container; /* the creator's container, else the
				* namespace's; "" for none */
	const char *name;      /* System V: the id in decimal; POSIX: its
				* name in the directory */
	bool has_key;
	uint32_t key; /* System V */
	uint64_t size;
	pid_t pid;	     /* the creator, 0 if not known */
	const char *command; /* its command line, "" if not known */
	/* A removal's remover (trace.h), 0 and "" if not known. */
	pid_t rpid;
	const char *rcommand, *rcontainer, *rcontainer_name;
	struct timespec when; /* CLOCK_REALTIME, when noticed */
};
/* Called on the thread that noticed, with locks held that keep the order:
 * it must not call back into a backend. */
typedef void (*shm_event_sink)(const struct shm_event *ev);

/* How often the watcher asks, at least: the System V window. */
#define SHM_WATCH_DEFAULT_MS 100
/* Start watching (after the backends' init, with their config): 0 or
 * -errno.  interval_ms: how often each namespace's System V table is
 * asked, at least (0: no watcher; changes are noticed by listings
 * only).  Segments made since `since` (CLOCK_REALTIME: before the mount
 * could be seen) are events, older ones are not. */
int shm_watch_start(const struct shmfs_config *cfg, unsigned interval_ms,
		    shm_event_sink sink, const struct timespec *since);
void shm_watch_stop(void);
struct shm_watch_stats {
	uint64_t passes;	  /* rounds over every namespace */
	uint64_t full_scans;	  /* System V tables read whole */
	double interval;	  /* seconds between rounds now: the window */
	double cpu_seconds;	  /* the watcher's own CPU time */
	uint64_t posix_dirs;	  /* directories under inotify */
	uint64_t creators_missed; /* segments first seen after their creator
				   * had gone */
	bool traced;		  /* the eBPF tracer runs (trace.h) */
	const char *trace_hooks;  /* on what: "calls" or "syscalls" */
	int trace_error;	  /* else why not: -errno, 0 if not asked */
	uint64_t trace_events, trace_lost; /* taken; dropped by the kernel */
};
void shm_watch_counts(struct shm_watch_stats *out);
/* Whether this build has the eBPF tracer of who makes and removes
 * segments (it still loads only where the kernel allows). */
bool shm_trace_built(void);

/* A GArray of struct shm_dirent that frees the names with itself. */
GArray *shm_dirents_new(void);
/* Append a copy of name with its attributes (and a link's target). */
void shm_dirents_add(GArray *a, const char *name, const struct shm_attr *attr);
void shm_dirents_add_link(GArray *a, const char *name,
			  const struct shm_attr *attr, const char *target);

/* A snapshot (the segments files): from begin to end, every question
 * the calling thread asks (and the namespace calls it makes) that needs
 * /proc is answered from one pass, begun at begin: one listing's rows
 * agree with each other, and cost one pass in all. */
enum {
	SHM_SNAPSHOT_MAPPED = 1u << 0,	   /* it lists mapped files */
	SHM_SNAPSHOT_NAMESPACES = 1u << 1, /* it asks whose namespaces are */
};
void shm_snapshot_begin(unsigned what);
void shm_snapshot_end(void);

/* What lsipc's COMMAND column shows for pid: its command line, the
 * arguments joined by spaces; "" once it is gone. */
char *shm_command_of(pid_t pid);

/* Fill attr from a struct stat (used by file-backed kinds). */
struct stat;
void shm_attr_from_stat(struct shm_attr *attr, const struct stat *st);
/* dst[i] = buf[i] wherever buf[i] != old[i], for i < n; other bytes of dst
 * keep whatever they hold, even if they change meanwhile.  Each aligned
 * 8-byte word of dst changes in one step (a compare-and-swap when only
 * some of its bytes change), so an aligned store of up to 8 bytes is
 * never seen half done. */
void shm_merge(void *dst, const void *buf, const void *old, size_t n);

/* The calls of the operations that may be NULL, each answering for a
 * missing one as its comment in struct shmfs_backend says. */
static inline int shm_be_init(const struct shmfs_backend *be,
			      const struct shmfs_config *cfg)
{
	return be->init ? be->init(cfg) : 0;
}

static inline void shm_be_fini(const struct shmfs_backend *be)
{
	if (be->fini)
		be->fini();
}

static inline int shm_be_list(const struct shmfs_backend *be, const char *dir,
			      GArray *out)
{
	return be->list ? be->list(dir, out) : -ENOTDIR;
}

static inline int shm_be_meta(const struct shmfs_backend *be, const char *path,
			      unsigned want, struct shm_meta *out)
{
	return be->meta ? be->meta(path, want, out) : -ENODATA;
}

static inline int shm_be_readlink(const struct shmfs_backend *be,
				  const char *path, char **out)
{
	return be->readlink ? be->readlink(path, out) : -EINVAL;
}

static inline int shm_be_open(const struct shmfs_backend *be, const char *path,
			      int flags, struct shm_handle **out)
{
	return be->open ? be->open(path, flags, out) : -EPERM;
}

static inline int shm_be_create(const struct shmfs_backend *be, const char *dir,
				const char *name, mode_t mode, int flags,
				uid_t uid, gid_t gid, struct shm_handle **out)
{
	return be->create ? be->create(dir, name, mode, flags, uid, gid, out) :
			    -EPERM;
}

static inline ssize_t shm_be_write(const struct shmfs_backend *be,
				   struct shm_handle *h, const void *buf,
				   size_t size, uint64_t off)
{
	return be->write ? be->write(h, buf, size, off) : -EBADF;
}

static inline ssize_t shm_be_write_changed(const struct shmfs_backend *be,
					   struct shm_handle *h,
					   const void *buf, const void *old,
					   size_t size, uint64_t off)
{
	return be->write_changed ? be->write_changed(h, buf, old, size, off) :
				   -EBADF;
}

static inline int shm_be_backing(const struct shmfs_backend *be,
				 struct shm_handle *h, struct shm_backing *out)
{
	return be->backing ? be->backing(h, out) : -ENOTSUP;
}

static inline int shm_be_truncate(const struct shmfs_backend *be,
				  const char *path, struct shm_handle *h,
				  uint64_t size)
{
	return be->truncate ? be->truncate(path, h, size) : -EPERM;
}

static inline int shm_be_remove(const struct shmfs_backend *be,
				const char *path)
{
	return be->remove ? be->remove(path) : -EPERM;
}

static inline int shm_be_setattr(const struct shmfs_backend *be,
				 const char *path, const struct shm_set *set)
{
	return be->setattr ? be->setattr(path, set) : -EPERM;
}

static inline int shm_be_fallocate(const struct shmfs_backend *be,
				   struct shm_handle *h, int mode, uint64_t off,
				   uint64_t len)
{
	return be->fallocate ? be->fallocate(h, mode, off, len) : -EOPNOTSUPP;
}

static inline int shm_be_tree(const struct shmfs_backend *be,
			      const struct shm_tree_op *op)
{
	if (be->tree)
		return be->tree(op);
	return op->what == SHM_RENAME ? -EXDEV : -EPERM;
}

static inline int shm_be_statfs(const struct shmfs_backend *be,
				struct shm_usage *acc)
{
	return be->statfs ? be->statfs(acc) : 0;
}

static inline int shm_be_dir_usage(const struct shmfs_backend *be,
				   const char *dir, struct shm_dir_usage *out)
{
	return be->dir_usage ? be->dir_usage(dir, out) : -ENODATA;
}

#ifdef __cplusplus
}
#endif

#endif
