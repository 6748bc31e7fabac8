/* sig.h - signals: terminating ones to a descriptor the loop waits on; crash ones restore the terminal. */
#ifndef TCPDWELL_SIG_H
#define TCPDWELL_SIG_H

/*
 * Block SIGINT, SIGTERM, SIGHUP, SIGCHLD and return a signalfd for them
 * (the same one on later calls); ignore SIGPIPE, SIGXFSZ. -1 with errno
 * set and the signals unblocked again when it fails.
 */
int sig_setup(void);
/* Read one pending signal number from the fd, 0 if none. */
int sig_read(int fd);
/* Install handlers of SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGQUIT that call restore() then
 * re-raise. */
void sig_on_crash(void (*restore)(void));
/* Unblock and reset signals in a forked child. */
void sig_child_reset(void);

#endif
