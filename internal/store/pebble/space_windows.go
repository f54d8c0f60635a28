package pebble

import (
	"syscall"

	"golang.org/x/sys/windows"
)

// diskSpace is the space the calling user may use on dir's volume (quotas
// counted), and its size.
func diskSpace(dir string) (avail, total uint64, err error) {
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return 0, 0, err
	}
	var free uint64
	err = windows.GetDiskFreeSpaceEx(p, &avail, &total, &free)
	return avail, total, err
}

// Windows reports a full disk as either of two errors, never ENOSPC.
func isNoSpaceErrno(errno syscall.Errno) bool {
	return errno == syscall.Errno(windows.ERROR_DISK_FULL) || errno == syscall.Errno(windows.ERROR_HANDLE_DISK_FULL)
}
