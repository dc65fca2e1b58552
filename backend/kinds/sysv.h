/* sysv.h - what the parts of the System V kind share: sysv.c (the
 * backend instance, routing each path), sysv_rows.c (what the kernel says
 * of segments, without attaching), sysv_seg.c (an open segment) and
 * sysv_key.c (by-key/ and the files created there before their segment
 * exists).  Not part of the backend interface. */
#ifndef SHMFS_SYSV_H
#define SHMFS_SYSV_H

#include <sys/ipc.h>
#include <sys/shm.h>

#include "backend.h"

#define SYSV_BY_KEY "by-key"

/* An open segment: the segment's memory file, the shmem file whose pages
 * are the segment's own (sysv_seg.c); an attachment only where that file
 * could not be opened.  A handle of a pending by-key/ file has id -1 and
 * neither until its size is known; lock serialises that change (writes
 * of one descriptor may come at once). */
struct shm_handle {
	GMutex lock;
	int id;	    /* -1 while pending */
	key_t key;  /* for a pending segment */
	void *addr; /* a kept attachment, or NULL */
	size_t size;
	bool writable;
	int memfd;	     /* the memory file, -1 if it could not be opened */
	bool memfd_rdwr;     /* memfd is open for reading and writing */
	bool memfd_writable; /* and takes write(2) (not hugetlbfs) */
	bool hugetlb;
	size_t page;	      /* the memory file's page size */
	struct shm_attr last; /* as the open found it: what fstat answers
			       * once the segment is removed */
};

/* What opens without a memory file may keep attached, in all. */
#define SYSV_KEPT_MAX ((uint64_t)1 << 40)

/* sysv_rows.c.  Learn the shm device and the start time (at init). */
void sysv_rows_init(void);
/* The device of the kernel's shm filesystem: a segment's memory file is
 * (sysv_shm_dev(), shmid) there. */
dev_t sysv_shm_dev(void);

/* A shmid in canonical decimal ("0", "42"; not "042", "+4", "4 "), or -1. */
int sysv_parse_id(const char *path);

/* The kernel's errno for a segment call, as the backend's -errno. */
int sysv_errno(int e);
int sysv_ipc_stat(int id, struct shmid_ds *ds);

/* Attributes of a segment, of the two directories, of a by-key/ link. */
void sysv_attr_from_ds(struct shm_attr *a, const struct shmid_ds *ds);
void sysv_dir_attr(struct shm_attr *a);
void sysv_link_attr(struct shm_attr *a, const struct shmid_ds *ds, int id);
int sysv_stat_id(int id, struct shm_attr *out);
int sysv_meta_id(int id, unsigned want, struct shm_meta *m);
int sysv_set_id(int id, const struct shm_set *set);
int sysv_remove_id(int id);
/* The segments not marked for removal, as listing entries. */
int sysv_list_ids(GArray *out);
/* What a listing notices (creators.h, its events), with no listing: the
 * watcher's full look at the calling thread's namespace. */
int sysv_notice(void);
/* IPC_INFO and SHM_INFO: sysv/'s limits and use, and statfs's share. */
int sysv_usage(struct shm_dir_usage *out);
int sysv_add_statfs(struct shm_usage *acc);

/* One row of /proc/sysvipc/shm. */
struct sysv_row {
	int key, id;
	unsigned mode;
	unsigned long long size, rss, swap;
	int cpid, lpid;
	unsigned long nattch;
	unsigned uid, gid, cuid, cgid;
	long long atime, dtime, ctime;
};

/* One line of /proc/sysvipc/shm as a row; false for the header, a short
 * line or a number that does not fit its field. */
bool sysv_parse_row(const char *line, struct sysv_row *r);
/* Call fn on every row of /proc/sysvipc/shm until it returns true. */
int sysv_scan(bool (*fn)(const struct sysv_row *r, void *arg), void *arg);

/* sysv_seg.c.  Attach h (id -1) to segment id; a new handle attached to
 * id. */
int sysv_attach_to(struct shm_handle *h, int id);
int sysv_attach(int id, bool writable, struct shm_handle **out);
/* A handle with no segment yet (id -1). */
struct shm_handle *sysv_handle_new(bool writable);
void sysv_close(struct shm_handle *h);
typedef struct shm_handle shm_handle;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(shm_handle, sysv_close)
/* Open segment `name` (a shmid) with open(2) flags; O_TRUNC zeroes it. */
int sysv_open_id(const char *name, int flags, struct shm_handle **out);
/* Zero segment id past size, through h if it may write, else through an
 * attachment of its own; -EFBIG past its end. */
int sysv_truncate_id(int id, struct shm_handle *h, uint64_t size);
/* The handle operations on a segment's handle (sysv.c makes a pending
 * handle's segment first: these answer -EIO for one). */
int sysv_seg_fstat(struct shm_handle *h, struct shm_attr *out);
int sysv_read(struct shm_handle *h, uint64_t off, size_t size,
	      struct shm_extent *out);
ssize_t sysv_seg_write(struct shm_handle *h, const void *buf, size_t size,
		       uint64_t off);
int sysv_seg_fallocate(struct shm_handle *h, int mode, uint64_t off,
		       uint64_t len);
/* -ENOSYS without the memory file: the front answers as for none. */
int64_t sysv_seek(struct shm_handle *h, int64_t off, int whence);
ssize_t sysv_seg_write_changed(struct shm_handle *h, const void *buf,
			       const void *old, size_t size, uint64_t off);
int sysv_backing(struct shm_handle *h, struct shm_backing *out);

/* by-key/ (sysv_key.c).  NAME is what follows "by-key/". */
void sysv_key_init(void);
void sysv_key_fini(void);
int sysv_key_list(GArray *out);
int sysv_key_stat(const char *name, struct shm_attr *out);
int sysv_key_meta(const char *name, unsigned want, struct shm_meta *m);
int sysv_key_readlink(const char *name, char **out);
int sysv_key_open(const char *name, int flags, struct shm_handle **out);
int sysv_key_create(const char *name, mode_t mode, int flags, uid_t uid,
		    gid_t gid, struct shm_handle **out);
/* A pending handle's attributes. */
int sysv_key_fstat(struct shm_handle *h, struct shm_attr *out);
/* A pending handle gets its size: the segment is made and h attached. */
int sysv_key_materialize(struct shm_handle *h, uint64_t size);
int sysv_key_setattr(const char *name, const struct shm_set *set);
/* truncate -s SIZE by-key/0xKEY: a pending file gets its size (h, or a
 * handle of its own when NULL); a made one is truncated as a segment. */
int sysv_key_truncate(const char *name, struct shm_handle *h, uint64_t size);
int sysv_key_remove(const char *name);

#endif
