//go:build unix

package pebble

import "syscall"

// diskSpace is the space unprivileged writers may use on dir's file system,
// and its size.
func diskSpace(dir string) (avail, total uint64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, 0, err
	}
	return uint64(st.Bavail) * uint64(st.Bsize), uint64(st.Blocks) * uint64(st.Bsize), nil
}

func isNoSpaceErrno(errno syscall.Errno) bool { return errno == syscall.ENOSPC }
