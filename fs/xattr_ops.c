/* xattr_ops.c - the xattr ops: the user.shm.* attributes of an inode,
 * from its backend's metadata (the text is xattr.c's), and the data path
 * (user.shm.io) from the inode itself. */
#include <errno.h>
#include <string.h>

#include "passthrough.h"
#include "xattr.h"

/* The metadata of a segment, with the costly fields in `want`;
 * -ENODATA for directories. */
static int ino_meta(const struct shmfs_inode *in, unsigned want,
		    struct shm_meta *m)
{
	if (!in->be || in->type != S_IFREG)
		return -ENODATA;
	return shm_be_meta(in->be, shmfs_inode_path(in), want, m);
}

/* user.shm.io: the data path of a file's opens (passthrough.h), and at
 * the mount's root the path of the mount.  Into s when given; -ENODATA
 * for other directories and links. */
static int io_xattr(struct shmfs_inode *in, GString *s)
{
	if (in->be && in->type != S_IFREG)
		return -ENODATA;
	if (s)
		g_string_append(s, in->be ? shmfs_io_name(in) :
				   shmfs_io_mount_passthrough() ?
					    "passthrough" :
					    "fallback");
	return 0;
}

/* The limits and use of a kind's directory (sysv/, posix/); -ENODATA for
 * every other inode. */
static int ino_dir_usage(const struct shmfs_inode *in, struct shm_dir_usage *u)
{
	if (!in->be || in->type != S_IFDIR)
		return -ENODATA;
	return shm_be_dir_usage(in->be, shmfs_inode_path(in), u);
}

/* Reply with text, or its length when size is 0 (the xattr protocol). */
static void reply_xattr_text(fuse_req_t req, const GString *s, size_t size)
{
	if (size == 0)
		fuse_reply_xattr(req, s->len);
	else if (size < s->len)
		shmfs_reply_err(req, -ERANGE, "xattr", NULL);
	else
		fuse_reply_buf(req, s->str, s->len);
}

/* How long the value a size probe answered stands for the read after it
 * (getfattr, and every program sizing its buffer, asks twice at once). */
#define PROBE_US (200 * 1000)

/* A size probe of name on in answered s: keep it for the read. */
static void probe_keep(struct shmfs_inode *in, const char *name,
		       const GString *s)
{
	g_mutex_lock(&in->lock);
	g_free(in->probe_name);
	if (in->probe_value)
		g_string_free(in->probe_value, TRUE);
	in->probe_name = g_strdup(name);
	in->probe_value = g_string_new_len(s->str, (gssize)s->len);
	in->probe_at = g_get_monotonic_time();
	g_mutex_unlock(&in->lock);
}

/* The read after a size probe of name: the value the probe measured,
 * so that the length and the value agree and the question (a /proc pass
 * for user.shm.pids) is asked once.  Into *s (replacing it); false if
 * there is none. */
static bool probed(struct shmfs_inode *in, const char *name, GString **s)
{
	GString *v = NULL;

	g_mutex_lock(&in->lock);
	if (in->probe_name && strcmp(in->probe_name, name) == 0 &&
	    g_get_monotonic_time() - in->probe_at < PROBE_US) {
		v = g_steal_pointer(&in->probe_value);
		g_clear_pointer(&in->probe_name, g_free);
	}
	g_mutex_unlock(&in->lock);
	if (!v)
		return false;
	g_string_free(*s, TRUE);
	*s = v;
	return true;
}

void shmfs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		    size_t size)
{
	shmfs_serve(req);
	g_autoptr(shmfs_inode) in = NULL;
	g_autoptr(GString) s = g_string_new(NULL);
	g_auto(shm_meta) m = { 0 };
	g_auto(shm_dir_usage) u = { 0 };
	int r;

	/* ls -l asks every file for security.selinux and its ACL: "not
	 * supported" for the namespaces we keep nothing in, which ls
	 * remembers for the whole filesystem (one round trip per listing,
	 * not two per file); "no such attribute" for other user.* names.
	 * No backend call either way. */
	if (strncmp(name, "user.", 5) != 0)
		return shmfs_reply_err(req, -ENOTSUP, "getxattr", name);
	if (strncmp(name, "user.shm.", 9) != 0)
		return shmfs_reply_err(req, -ENODATA, "getxattr", name);
	in = shmfs_inode_get(ino);
	if (in && size && probed(in, name, &s))
		return reply_xattr_text(req, s, size);
	if (!in)
		r = -ENOENT;
	else if (strcmp(name, SHMFS_XATTR_IO) == 0)
		r = io_xattr(in, s);
	else if ((r = ino_meta(in, shmfs_xattr_need(name), &m)) == 0)
		r = shmfs_xattr_get(m.kind ? m.kind : in->be->name, &m, name,
				    s);
	else if (r == -ENODATA && (r = ino_dir_usage(in, &u)) == 0)
		r = shmfs_xattr_dir_get(&u, name, s);
	if (r)
		return shmfs_reply_err(req, r, "getxattr",
				       in ? shmfs_inode_path(in) : NULL);
	if (!size)
		probe_keep(in, name, s);
	reply_xattr_text(req, s, size);
}

void shmfs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	shmfs_serve(req);
	g_autoptr(shmfs_inode) in = shmfs_inode_get(ino);
	g_autoptr(GString) s = g_string_new(NULL);
	g_auto(shm_dir_usage) u = { 0 };
	g_auto(shm_meta) m = { 0 };
	int r = in ? ino_meta(in, 0, &m) : -ENOENT;

	if (r == 0)
		shmfs_xattr_list(m.kind ? m.kind : in->be->name, &m, s);
	else if (r != -ENODATA)
		return shmfs_reply_err(req, r, "listxattr",
				       in ? shmfs_inode_path(in) : NULL);
	else if (ino_dir_usage(in, &u) == 0)
		shmfs_xattr_dir_list(&u, s);
	if (io_xattr(in, NULL) == 0)
		g_string_append_len(s, SHMFS_XATTR_IO, sizeof(SHMFS_XATTR_IO));
	reply_xattr_text(req, s, size);
}

/* The user.shm.* names are read-only views and there are no others.
 * ENOTSUP (not EPERM) so that cp -a and mv, which copy xattrs, stay quiet. */
void shmfs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		    const char *value, size_t size, int flags)
{
	shmfs_serve(req);
	(void)ino, (void)value, (void)size, (void)flags;
	shmfs_reply_err(req, -ENOTSUP, "setxattr", name);
}

void shmfs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	shmfs_serve(req);
	(void)ino;
	shmfs_reply_err(req, -ENOTSUP, "removexattr", name);
}
