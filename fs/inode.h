/* inode.h - one object per FUSE inode, and the table that finds it.
 *
 * A struct shmfs_inode owns everything about one inode: which (backend,
 * path) and which object it names, the kernel's lookup count, its open
 * files, their data path and backing id, and the fallback's kept pages.
 * Inode 1 is the mount's root; each backend's directory is a pinned
 * inode; every other inode stays in the table while the kernel holds a
 * lookup on it or a file of it is open (the kernel may forget an inode
 * before the daemon has handled its last release), and its number is
 * never reused, so an inode number always means one name.
 *
 * Ownership: an inode is refcounted.  The table holds one reference
 * while the inode is in it, every open file (file.h) one, and every
 * caller of shmfs_inode_get() one until shmfs_inode_unref().
 *
 * Locks, in the order they may be taken (never the other way round):
 *   1. nodes_lock (inode.c)   the table, and every inode's nlookup and
 *                             nopen (what keeps it in the table)
 *   2. inode->lock            the inode's open files and data path, and
 *                             its last xattr size probe and link target
 *   inode->shadow.lock        the fallback's kept pages of the inode:
 *                             taken alone, never with another lock of
 *                             the front held or taken under it
 * No backend call runs under nodes_lock or inode->lock.  The fallback's
 * write-back calls the backend under the inode's own shadow.lock on
 * purpose, so that a kept page and the segment change together; that
 * holds up nothing but the write-backs and page fills of that one inode.
 * The backend takes at most its own leaf lock there (pending_lock in
 * sysv_key.c); for a file under ns/ the call waits for a pool thread of
 * its namespace (nspool.h), which takes none of the front's locks.
 */
#ifndef SHMFS_INODE_H
#define SHMFS_INODE_H

#include <sys/stat.h>

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 316
#endif
#include <fuse_lowlevel.h>

#include "backend.h"

/* The data path an open takes (chosen per inode by passthrough.c):
 *   passthrough  the kernel reads, writes and maps the segment's own pages
 *                (its backing file) without asking the daemon; a System V
 *                file open for writing still sends read and write here, so
 *                that the segment keeps its size;
 *   fallback     the kernel's page cache for the FUSE inode, filled by
 *                read and written back by write, kept in step with the
 *                segment by fallback.h (page shadow, refresh);
 *   direct       served by the daemon with no page cache: a file made
 *                when opened (shmfs.prom), or a writer of an inode whose
 *                backing file only allows reading. */
enum shmfs_io {
	SHMFS_IO_FALLBACK = 0,
	SHMFS_IO_PASSTHROUGH,
	SHMFS_IO_DIRECT,
};

/* The fallback's kept pages of one inode (fallback.h). */
struct shmfs_shadow {
	GMutex lock;
	unsigned writers;  /* open files with write access */
	GHashTable *pages; /* page index -> g_malloc'd SHMFS_PAGE bytes */
};

struct shmfs_inode {
	/* Set when the inode is made, never changed: read without a lock. */
	fuse_ino_t ino;
	const struct shmfs_backend *be; /* NULL for the mount's root */
	/* Relative to the backend's dir; changed only by a rename (then
	 * atomically, the old string kept until the inode goes): read it
	 * with shmfs_inode_path(). */
	char *path;
	GPtrArray *old_paths;	       /* nodes_lock: the strings path was */
	mode_t type;		       /* S_IFREG, S_IFDIR, S_IFLNK, ... */
	uint64_t ident_dev, ident_ino; /* the object (shm_attr), or 0 */
	uint64_t ident_ns, ident_gen;
	char *key;	  /* "kind/path:type:dev:ino:ns:gen": the by-name key;
			   * nodes_lock */
	char *object_key; /* "kind:dev:ino:ns:gen" where one object's
			   * names are one inode (hard links), or NULL */
	bool pinned;	  /* root and backend dirs: never forgotten */
	gint refs;	  /* atomic */

	/* nodes_lock */
	uint64_t nlookup;
	/* The directories it was looked up in (fuse_ino_t; a POSIX object
	 * is one inode in every namespace's posix/ that shows it), until a
	 * listing of one of them prunes it there (prune.h); NULL for none. */
	GArray *parents;
	unsigned nopen; /* open files, release not yet handled */

	/* lock */
	GMutex lock;
	GCond decided;	  /* a first open finished choosing the path */
	GPtrArray *files; /* struct shmfs_file *, listed while open: a
			   * caller takes its own reference under lock */
	enum shmfs_io io; /* of the inode, while files are open */
	int backing_id;	  /* > 0 on the passthrough path */
	bool writable;	  /* the backing file allows writing */
	bool writes_to_daemon;
	bool deciding; /* a first open is choosing the path, unlocked */
	/* A link's target as the last listing of its directory saw it. */
	char *link_target;
	gint64 link_at;
	/* The value the last size probe of an xattr (getxattr with size 0)
	 * answered, for the read that follows it (xattr_ops.c). */
	char *probe_name;
	GString *probe_value;
	gint64 probe_at;

	struct shmfs_shadow shadow;
};

void shmfs_nodes_init(const struct shmfs_backend *const *bes, size_t n);
void shmfs_nodes_fini(void);

/* A reference to inode ino, or NULL if the kernel names one we don't
 * know. */
struct shmfs_inode *shmfs_inode_get(fuse_ino_t ino);
struct shmfs_inode *shmfs_inode_ref(struct shmfs_inode *in);
void shmfs_inode_unref(struct shmfs_inode *in);
typedef struct shmfs_inode shmfs_inode;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(shmfs_inode, shmfs_inode_unref)

/* Whether a (the attributes of in's name now) is another object than the
 * one in was made for: the name was removed and made again. */
bool shmfs_inode_other_object(const struct shmfs_inode *in,
			      const struct shm_attr *a);

/* The inode for (be, path) with attributes a, created if needed, its
 * lookup count raised.  The type and the object (a's ident, where the
 * kind gives one) are part of the identity: a name that turns from a
 * file into a symlink (by-key/), or that is removed and made again, gets
 * a new inode, never a changed one, as on any filesystem. */
fuse_ino_t shmfs_inode_lookup(fuse_ino_t parent, const struct shmfs_backend *be,
			      const char *path, const struct shm_attr *a);
/* The kernel dropped n lookups of ino. */
void shmfs_inode_forget(fuse_ino_t ino, uint64_t n);
/* The inodes the kernel holds (looked up, not forgotten) in directory
 * dir whose name its listing `listed` (name -> struct shm_attr *) has
 * not, or has for another object: a new array of struct shmfs_unlisted
 * (prune.h). */
struct shmfs_unlisted {
	fuse_ino_t parent, ino;
	char *name;
	/* Told deleted only where the kernel cannot have it under another
	 * name, and the name is not listed for another object. */
	bool deleted;
};
GArray *shmfs_inode_unlisted(fuse_ino_t dir, GHashTable *listed);
/* How many inodes the table holds (shmfs.prom). */
guint shmfs_inode_count(void);

/* A file of in was opened / its release handled: an inode with open
 * files stays in the table after its last forget, and leaves it with its
 * last release. */
void shmfs_inode_opened(struct shmfs_inode *in);
void shmfs_inode_released(struct shmfs_inode *in);
/* A listing saw in's target: kept for readlink (shmfs_inode_link). */
void shmfs_inode_keep_link(struct shmfs_inode *in, const char *target);
/* The target kept within max_age_us, newly allocated, or NULL. */
char *shmfs_inode_link(struct shmfs_inode *in, gint64 max_age_us);
/* References to every inode with open files, for a walk outside the
 * table's lock (the refresh thread, the end of the session). */
GPtrArray *shmfs_inodes_open(void);

/* The object behind inode ino (its kind's device and inode number, as
 * /proc/PID/maps names a native mapping of it): how a mapping through the
 * mount is told apart (procscan.h's resolver).  False if ino names none. */
bool shmfs_node_object(ino_t ino, dev_t *dev, ino_t *obj, ino_t *ns);

/* in's path now (valid while the caller holds its reference). */
const char *shmfs_inode_path(const struct shmfs_inode *in);
/* (be, from) was renamed to (be, to), everything beneath it with it;
 * with exchange, (be, to) became (be, from) as well. */
void shmfs_inodes_renamed(const struct shmfs_backend *be, const char *from,
			  const char *to, bool exchange);

/* path of `name` inside directory `dir` (both backend-relative). */
char *shmfs_child_path(const char *dir, const char *name);

#endif
