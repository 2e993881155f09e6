/* SPDX-License-Identifier: MIT */
/* Drives an interactive program through a pseudo-terminal as a person would:
 * types each line of a file after the program's prompt ("> " or ">> "), then Ctrl-D.
 *
 * usage: pty_run INPUT SECONDS -- COMMAND [ARG...]
 * Prints the whole transcript (the program's output and the terminal's echo of
 * what was typed) and exits with the program's status; 3 when the program
 * shows no prompt for SECONDS, 4 when it ends before all lines were typed. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

static char tail[64]; /* the last bytes of output, for the prompt */
static size_t tail_len;

/* Takes in what the program wrote; 0 at its end (EOF or EIO on the master). */
static int pump(int master, int timeout_ms)
{
	struct pollfd p = { .fd = master, .events = POLLIN };
	char buf[4096];
	ssize_t n;
	int r = poll(&p, 1, timeout_ms);

	if (r <= 0)
		return r < 0 && errno != EINTR ? 0 : 1;
	n = read(master, buf, sizeof(buf));
	if (n <= 0)
		return n < 0 && errno == EINTR;
	fwrite(buf, 1, (size_t)n, stdout);
	fflush(stdout);
	for (ssize_t i = 0; i < n; i++) {
		if (tail_len == sizeof(tail)) {
			memmove(tail, tail + 1, sizeof(tail) - 1);
			tail_len--;
		}
		tail[tail_len++] = buf[i];
	}
	return 1;
}

static int at_prompt(void)
{
	return tail_len >= 2 && tail[tail_len - 2] == '>' && tail[tail_len - 1] == ' ';
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits for a prompt: 1, or 0 when the program ended, -1 on timeout. */
static int wait_prompt(int master, double seconds)
{
	double end = now() + seconds;
	while (!at_prompt()) {
		if (now() > end)
			return -1;
		if (!pump(master, 100))
			return 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	FILE *in;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	double seconds;
	int master, status = 0, r;
	pid_t pid;

	if (argc < 5 || strcmp(argv[3], "--") != 0) {
		fprintf(stderr, "usage: pty_run INPUT SECONDS -- COMMAND [ARG...]\n");
		return 2;
	}
	in = fopen(argv[1], "r");
	seconds = atof(argv[2]);
	if (!in) {
		perror(argv[1]);
		return 2;
	}
	pid = forkpty(&master, NULL, NULL, NULL);
	if (pid < 0) {
		perror("forkpty");
		return 2;
	}
	if (pid == 0) {
		setenv("TERM", "dumb", 1);
		execvp(argv[4], argv + 4);
		perror(argv[4]);
		_exit(127);
	}
	while ((len = getline(&line, &cap, in)) >= 0) {
		r = wait_prompt(master, seconds);
		if (r <= 0) {
			fprintf(stderr, "\npty_run: %s before this line was typed: %s", r < 0 ? "no prompt" : "the program ended",
				line);
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return r < 0 ? 3 : 4;
		}
		tail_len = 0; /* the next prompt is a new one */
		if (len > 0 && line[len - 1] != '\n')
			line[len++] = '\n'; /* getline left room for the NUL */
		if (write(master, line, (size_t)len) != len) {
			perror("pty_run: write");
			return 2;
		}
	}
	free(line);
	fclose(in);
	if (wait_prompt(master, seconds) < 0) {
		fprintf(stderr, "\npty_run: no prompt after the last line\n");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return 3;
	}
	if (write(master, "\004", 1) != 1) /* Ctrl-D: the end of input */
		perror("pty_run: write");
	while (pump(master, 1000))
		;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
