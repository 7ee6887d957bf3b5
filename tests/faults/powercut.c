/* powercut.c: an LD_PRELOAD shim that records what a power cut would take away from one file.

A process killed with SIGKILL loses nothing it wrote: the kernel's page cache keeps every write. A
power cut loses the writes that were never made durable. This shim makes that loss reproducible
without special hardware. For the target file (POWERCUT_TARGET, an absolute path, matched by device
and inode so every descriptor of it counts), it appends to a side journal (POWERCUT_JOURNAL), before
each write reaches the file:

  'U' record: the bytes the write is about to overwrite and the file size before it (an undo record);
  'D' record: for a write through a descriptor opened with O_DSYNC/O_SYNC, the bytes written (durable
              at once; LMDB writes its meta page this way), replayed after the undo pass.

fsync/fdatasync on the target clears the journal: everything written before the call is durable.
Records appended while the sync ran (another thread) are kept. The test cuts the power by SIGKILLing
the process, then applies the journal: undo records in reverse order, then durable records in order.
The file is left as a disk would hold it if the power had failed at the kill: the synced state plus
nothing written after it. The page cache is not involved: LMDB reads through mmap, so the running
process must see its writes, and it does; only the file left behind is rolled back.

Set POWERCUT_IGNORE_SYNC=1 to make fsync/fdatasync clear nothing (a disk that lies about flushes).

Every write path of LMDB 0.9 (as bundled by py-lmdb: pwrite, lseek+writev, write for the initial
meta pages, fdatasync/fsync, O_DSYNC meta writes) is covered, plus pwritev and ftruncate. One record
is one write(2) to the journal, so a kill mid-append leaves at most one torn trailing record, whose
data write never happened; the applier ignores it. Record layout (little endian):
  u8 kind, u64 offset, u64 old_size, u64 length (of the write), u64 n, n bytes (old bytes for 'U': fewer
  than length where the write goes past the end of the file; the written bytes for 'D').
*/
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);
typedef ssize_t (*pwritev_fn)(int, const struct iovec *, int, off_t);
typedef int (*fd_fn)(int);
typedef int (*ftruncate_fn)(int, off_t);
typedef int (*open_fn)(const char *, int, ...);

static write_fn real_write;
static pwrite_fn real_pwrite, real_pwrite64;
static writev_fn real_writev;
static pwritev_fn real_pwritev, real_pwritev64;
static fd_fn real_fsync, real_fdatasync;
static ftruncate_fn real_ftruncate, real_ftruncate64;
static open_fn real_open;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static const char *target_path;
static const char *journal_path;
static int ignore_sync;
static int journal_fd = -1;
static int read_fd = -1; /* our own read-only descriptor of the target, for the old bytes */
static dev_t target_dev;
static ino_t target_ino;
static int target_known;
static uint64_t journal_len;

static void init(void) {
    real_write = (write_fn)dlsym(RTLD_NEXT, "write");
    real_pwrite = (pwrite_fn)dlsym(RTLD_NEXT, "pwrite");
    real_pwrite64 = (pwrite_fn)dlsym(RTLD_NEXT, "pwrite64");
    real_writev = (writev_fn)dlsym(RTLD_NEXT, "writev");
    real_pwritev = (pwritev_fn)dlsym(RTLD_NEXT, "pwritev");
    real_pwritev64 = (pwritev_fn)dlsym(RTLD_NEXT, "pwritev64");
    real_fsync = (fd_fn)dlsym(RTLD_NEXT, "fsync");
    real_fdatasync = (fd_fn)dlsym(RTLD_NEXT, "fdatasync");
    real_ftruncate = (ftruncate_fn)dlsym(RTLD_NEXT, "ftruncate");
    real_ftruncate64 = (ftruncate_fn)dlsym(RTLD_NEXT, "ftruncate64");
    real_open = (open_fn)dlsym(RTLD_NEXT, "open");
    target_path = getenv("POWERCUT_TARGET");
    journal_path = getenv("POWERCUT_JOURNAL");
    const char *ig = getenv("POWERCUT_IGNORE_SYNC");
    ignore_sync = ig != NULL && ig[0] == '1';
}

/* Called with the lock held. The target may not exist when the process starts: look again until it does. */
static int is_target(int fd) {
    struct stat st;
    if (target_path == NULL || journal_path == NULL) return 0;
    if (!target_known) {
        if (stat(target_path, &st) != 0) return 0;
        target_dev = st.st_dev;
        target_ino = st.st_ino;
        target_known = 1;
    }
    if (fstat(fd, &st) != 0) return 0;
    return st.st_dev == target_dev && st.st_ino == target_ino;
}

static int open_files(void) {
    if (journal_fd < 0) {
        journal_fd = real_open(journal_path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (journal_fd < 0) return -1;
        struct stat st;
        journal_len = fstat(journal_fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    }
    if (read_fd < 0) {
        read_fd = real_open(target_path, O_RDONLY | O_CLOEXEC);
        if (read_fd < 0) return -1;
    }
    return 0;
}

static int append_all(const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = real_write(journal_fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
        journal_len += (uint64_t)n;
    }
    return 0;
}

/* Journal a write of `len` bytes at `offset`; iov = the new bytes (used for 'D' only). */
static int journal_write(off_t offset, size_t len, const struct iovec *iov, int iovcnt, char kind) {
    struct stat st;
    if (open_files() != 0 || fstat(read_fd, &st) != 0) return -1;
    uint64_t old_size = (uint64_t)st.st_size;
    uint64_t n;
    if (kind == 'D') {
        n = len;
    } else if ((uint64_t)offset >= old_size) {
        n = 0;
    } else {
        n = old_size - (uint64_t)offset < len ? old_size - (uint64_t)offset : len;
    }
    size_t header = 1 + 8 * 4;
    uint64_t len64 = (uint64_t)len;
    char *buf = malloc(header + n);
    if (buf == NULL) return -1;
    uint64_t off64 = (uint64_t)offset;
    buf[0] = kind;
    memcpy(buf + 1, &off64, 8);
    memcpy(buf + 9, &old_size, 8);
    memcpy(buf + 17, &len64, 8);
    memcpy(buf + 25, &n, 8);
    if (kind == 'D') {
        size_t at = header;
        for (int i = 0; i < iovcnt; i++) {
            memcpy(buf + at, iov[i].iov_base, iov[i].iov_len);
            at += iov[i].iov_len;
        }
    } else {
        size_t got = 0;
        while (got < n) {
            ssize_t r = pread(read_fd, buf + header + got, n - got, offset + (off_t)got);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            got += (size_t)r;
        }
        if (got < n) { /* the file shrank under us: record what is there */
            n = got;
            memcpy(buf + 25, &n, 8);
        }
    }
    int rc = append_all(buf, header + n);
    free(buf);
    return rc;
}

static size_t iov_total(const struct iovec *iov, int iovcnt) {
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++) total += iov[i].iov_len;
    return total;
}

/* Before a write of iov at offset to fd: journal it if fd is the target. Returns -1 if the journal
   failed (the write is then refused with EIO: a silent gap would make the test lie). */
static int before_write(int fd, off_t offset, const struct iovec *iov, int iovcnt) {
    pthread_once(&once, init);
    pthread_mutex_lock(&lock);
    int rc = 0;
    if (is_target(fd)) {
        int flags = fcntl(fd, F_GETFL);
        int durable = flags >= 0 && (flags & (O_DSYNC | O_SYNC)) != 0;
        if (offset < 0) offset = lseek(fd, 0, SEEK_CUR);
        rc = journal_write(offset, iov_total(iov, iovcnt), iov, iovcnt, durable ? 'D' : 'U');
    }
    pthread_mutex_unlock(&lock);
    if (rc != 0) errno = EIO;
    return rc;
}

ssize_t write(int fd, const void *data, size_t len) {
    struct iovec v = {(void *)data, len};
    if (before_write(fd, -1, &v, 1) != 0) return -1;
    return real_write(fd, data, len);
}

ssize_t pwrite(int fd, const void *data, size_t len, off_t offset) {
    struct iovec v = {(void *)data, len};
    if (before_write(fd, offset, &v, 1) != 0) return -1;
    return real_pwrite(fd, data, len, offset);
}

ssize_t pwrite64(int fd, const void *data, size_t len, off_t offset) {
    struct iovec v = {(void *)data, len};
    if (before_write(fd, offset, &v, 1) != 0) return -1;
    return real_pwrite64(fd, data, len, offset);
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt) {
    if (before_write(fd, -1, iov, iovcnt) != 0) return -1;
    return real_writev(fd, iov, iovcnt);
}

ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t offset) {
    if (before_write(fd, offset, iov, iovcnt) != 0) return -1;
    return real_pwritev(fd, iov, iovcnt, offset);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int iovcnt, off_t offset) {
    if (before_write(fd, offset, iov, iovcnt) != 0) return -1;
    return real_pwritev64(fd, iov, iovcnt, offset);
}

static int before_truncate(int fd, off_t length) {
    pthread_once(&once, init);
    pthread_mutex_lock(&lock);
    int rc = 0;
    struct stat st;
    if (is_target(fd) && fstat(fd, &st) == 0) {
        /* An undo record at `length` holding the bytes a shrink removes (none for a growth). */
        off_t keep = length < st.st_size ? length : st.st_size;
        rc = journal_write(keep, (size_t)(st.st_size - keep), NULL, 0, 'U');
    }
    pthread_mutex_unlock(&lock);
    if (rc != 0) errno = EIO;
    return rc;
}

int ftruncate(int fd, off_t length) {
    if (before_truncate(fd, length) != 0) return -1;
    return real_ftruncate(fd, length);
}

int ftruncate64(int fd, off_t length) {
    if (before_truncate(fd, length) != 0) return -1;
    return real_ftruncate64(fd, length);
}

/* Everything journaled before the sync began is durable once it returns: drop it, keep the rest. */
static int do_sync(int fd, fd_fn real) {
    pthread_mutex_lock(&lock);
    int target = is_target(fd) && journal_fd >= 0 && !ignore_sync;
    uint64_t before = journal_len;
    pthread_mutex_unlock(&lock);
    int rc = real(fd);
    if (rc != 0 || !target) return rc;
    pthread_mutex_lock(&lock);
    uint64_t tail = journal_len - before;
    char *keep = tail ? malloc(tail) : NULL;
    if (tail == 0 || (keep != NULL && pread(journal_fd, keep, tail, (off_t)before) == (ssize_t)tail)) {
        if (real_ftruncate(journal_fd, 0) == 0) {
            journal_len = 0;
            if (tail) append_all(keep, tail);
        }
    }
    free(keep);
    pthread_mutex_unlock(&lock);
    return rc;
}

int fsync(int fd) {
    pthread_once(&once, init);
    return do_sync(fd, real_fsync);
}

int fdatasync(int fd) {
    pthread_once(&once, init);
    return do_sync(fd, real_fdatasync);
}
