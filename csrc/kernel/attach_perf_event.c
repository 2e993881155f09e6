/* SPDX-License-Identifier: MIT */
/* perf_event programs on sampling events: one perf event per online CPU
 * (or one per task), each linked to the program; one link holds them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include "perf.h"

struct event_name {
	const char *name;
	uint32_t type;
	uint64_t config;
};

/* perf(1)'s names for the generic events, aliases after the main name */
static const struct event_name events[] = {
	{ "cpu-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK },
	{ "task-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK },
	{ "page-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS },
	{ "faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS },
	{ "context-switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES },
	{ "cs", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES },
	{ "cpu-migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS },
	{ "migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS },
	{ "minor-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MIN },
	{ "major-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MAJ },
	{ "alignment-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_ALIGNMENT_FAULTS },
	{ "emulation-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_EMULATION_FAULTS },
	{ "cpu-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES },
	{ "cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES },
	{ "instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS },
	{ "cache-references", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_REFERENCES },
	{ "cache-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES },
	{ "branch-instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_INSTRUCTIONS },
	{ "branches", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_INSTRUCTIONS },
	{ "branch-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES },
	{ "bus-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BUS_CYCLES },
	{ "stalled-cycles-frontend", PERF_TYPE_HARDWARE, PERF_COUNT_HW_STALLED_CYCLES_FRONTEND },
	{ "stalled-cycles-backend", PERF_TYPE_HARDWARE, PERF_COUNT_HW_STALLED_CYCLES_BACKEND },
	{ "ref-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_REF_CPU_CYCLES },
};

int ebpfdsl_perf_event_parse(const char *name, uint32_t *type, uint64_t *config)
{
	for (size_t i = 0; name && i < sizeof(events) / sizeof(events[0]); i++) {
		if (strcmp(events[i].name, name) == 0) {
			*type = events[i].type;
			*config = events[i].config;
			return 0;
		}
	}
	return -ENOENT;
}

static const char *event_name(uint32_t type, uint64_t config, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (events[i].type == type && events[i].config == config)
			return events[i].name;
	snprintf(buf, len, "event type %u config 0x%llx", type, (unsigned long long)config);
	return buf;
}

/* The online CPUs ("0-3,6") into a list; returns the count or -errno. */
static int online_cpus(int *cpus, int max)
{
	char buf[1024], *p = buf;
	int fd = open("/sys/devices/system/cpu/online", O_RDONLY | O_CLOEXEC), n = 0;
	ssize_t len;
	if (fd < 0)
		return -errno;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return -EIO;
	buf[len] = '\0';
	while (*p && *p != '\n') {
		char *end;
		long a = strtol(p, &end, 10), b = a;
		if (end == p)
			return -EINVAL;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		for (long c = a; c <= b && n < max; c++)
			cpus[n++] = (int)c;
		p = *end == ',' ? end + 1 : end;
	}
	return n;
}

/* EBPFDSL_PERF_EVENT_OPTS's ATTR rows into perf_event_attr, as they are
 * (a BOOL row is a bit: any nonzero sets it); HAND rows are the code's */
#define ATTR_VAL_BOOL(v) ((v) != 0)
#define ATTR_VAL_U32(v) (v)
#define ATTR_VAL_U64(v) (v)
#define ATTR_COPY(how, kind, f) ATTR_COPY_##how(kind, f)
#define ATTR_COPY_ATTR(kind, f) attr.f = ATTR_VAL_##kind(o.f);
#define ATTR_COPY_HAND(kind, f)

int ebpfdsl_attach_perf_event(int prog_fd, const struct ebpfdsl_perf_event_opts *opts, ebpfdsl_link **out,
			      char *err, size_t errlen)
{
	struct ebpfdsl_perf_event_opts o = { .sz = sizeof(o), .cpu = -1 };
	struct perf_event_attr attr;
	struct ebpfdsl_link *l;
	char nbuf[64], what[256];
	const char *name;
	int cpus[1024], ncpu, e;

	EBPFDSL_OPTS_COPY(o, opts);
	name = event_name(o.type, o.config, nbuf, sizeof(nbuf));
	if (o.sample_period && o.sample_freq)
		return ebpfdsl__err(err, errlen, EINVAL, "perf event %s: give sample_period or sample_freq, not both", name);
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = o.type;
	EBPFDSL_PERF_EVENT_OPTS(ATTR_COPY)
	if (o.sample_period) {
		attr.sample_period = o.sample_period;
	} else {
		attr.freq = 1;
		attr.sample_freq = o.sample_freq ? o.sample_freq : 99;
	}
	if (o.pid > 0 && o.cpu < 0) {
		cpus[0] = -1; /* follow the task wherever it runs */
		ncpu = 1;
	} else if (o.cpu >= 0) {
		cpus[0] = o.cpu;
		ncpu = 1;
	} else {
		ncpu = online_cpus(cpus, (int)(sizeof(cpus) / sizeof(cpus[0])));
		if (ncpu <= 0)
			return ebpfdsl__err(err, errlen, ncpu ? ncpu : -ENOENT,
					"perf event %s: reading /sys/devices/system/cpu/online", name);
	}
	if (o.sample_period)
		snprintf(what, sizeof(what), "%s every %llu", name, (unsigned long long)o.sample_period);
	else
		snprintf(what, sizeof(what), "%s at %llu Hz", name, (unsigned long long)attr.sample_freq);
	if (o.pid > 0)
		l = ebpfdsl__perf_link_new(EBPFDSL_LINK_PERF_EVENT, "%s, pid %d", what, o.pid);
	else if (ncpu == 1 && cpus[0] >= 0)
		l = ebpfdsl__perf_link_new(EBPFDSL_LINK_PERF_EVENT, "%s, cpu %d", what, cpus[0]);
	else
		l = ebpfdsl__perf_link_new(EBPFDSL_LINK_PERF_EVENT, "%s, %d CPUs", what, ncpu);
	if (!l)
		return ebpfdsl__err(err, errlen, ENOMEM, "perf event %s", name);
	for (int i = 0; i < ncpu; i++) {
		char one[300];
		int pfd = ebpfdsl__perf_open(&attr, o.pid > 0 ? o.pid : -1, cpus[i], -1, PERF_FLAG_FD_CLOEXEC);
		if (pfd < 0) {
			e = errno;
			ebpfdsl_link__free(l);
			if (o.type == PERF_TYPE_HARDWARE && (e == ENOENT || e == EOPNOTSUPP) &&
			    access("/sys/bus/event_source/devices/cpu", F_OK) < 0)
				return ebpfdsl__err(err, errlen, e,
						"perf event %s: this machine has no hardware PMU "
						"(/sys/bus/event_source/devices/cpu is missing; virtual machines often "
						"have none): perf_event_open",
						name);
			if (o.pid > 0 && e == ESRCH)
				return ebpfdsl__err(err, errlen, e, "perf event %s: no process %d", name, o.pid);
			return ebpfdsl__err(err, errlen, e, "perf event %s on cpu %d: perf_event_open", name, cpus[i]);
		}
		snprintf(one, sizeof(one), "perf event %s on cpu %d", name, cpus[i]);
		e = ebpfdsl__perf_attach(l, prog_fd, pfd, o.cookie, one, err, errlen);
		if (e < 0) {
			ebpfdsl_link__free(l);
			return e;
		}
	}
	*out = l;
	return 0;
}
