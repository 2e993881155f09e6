/* SPDX-License-Identifier: MIT */
/* The verifier-log annotator on any log text, any instructions and labels
 * anywhere: both functions keep to their buffer, always terminate it, and
 * report the length they would have written. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct ebpfdsl_label labels[8];
	static const char *const NAMES[8] = { "a", "out", "loop", "L12", "x_y", "", "exit", "deep" };
	size_t nlabels = (size_t)fuzz_take(&in, 1) % 9;
	size_t cnt = (size_t)fuzz_take(&in, 1) % 64;
	size_t outlen = (size_t)fuzz_take(&in, 2) % 4097;
	struct bpf_insn *insns = calloc(cnt ? cnt : 1, sizeof(*insns));
	char *log, *out, *big;
	int n, m;

	for (size_t i = 0; i < nlabels; i++) {
		labels[i].name = NAMES[i];
		labels[i].slot = (size_t)fuzz_take(&in, 1);
	}
	for (size_t i = 0; i < cnt; i++) {
		uint64_t w = fuzz_take(&in, 8);
		memcpy(&insns[i], &w, sizeof(w));
	}
	log = malloc(in.n + 1);
	memcpy(log, in.p, in.n);
	log[in.n] = '\0';
	out = malloc(outlen + 1);
	/* a byte past the buffer it is given, to see it stays untouched */
	out[outlen] = 'Z';

	n = ebpfdsl_vlog_explain(log, insns, cnt, labels, nlabels, out, outlen);
	FUZZ_CHECK(n >= -1, "explain returned %d", n); /* the index the log names, or -1 */
	FUZZ_CHECK(out[outlen] == 'Z', "explain wrote past its buffer");
	FUZZ_CHECK(outlen == 0 || memchr(out, '\0', outlen), "explain left its buffer unterminated");

	m = ebpfdsl_vlog_annotate(log, insns, cnt, labels, nlabels, out, outlen);
	FUZZ_CHECK(m >= 0, "annotate returned %d", m);
	FUZZ_CHECK(out[outlen] == 'Z', "annotate wrote past its buffer");
	FUZZ_CHECK(outlen == 0 || memchr(out, '\0', outlen), "annotate left its buffer unterminated");
	big = malloc((size_t)m + 1);
	FUZZ_CHECK(ebpfdsl_vlog_annotate(log, insns, cnt, labels, nlabels, big, (size_t)m + 1) == m,
		   "a second annotate gave another length");
	FUZZ_CHECK(strlen(big) == (size_t)m, "annotate said %d, wrote %zu", m, strlen(big));
	if (outlen)
		FUZZ_CHECK(strncmp(out, big, outlen - 1) == 0, "a short buffer holds something else than the start");
	free(big);
	free(out);
	free(log);
	free(insns);
	return 0;
}
