// libbpf's own log (verifier output, relocation failures) captured so it can travel inside the JS
// Error of a failed open instead of being written to the process's stderr.
#pragma once

#include <string>

namespace lbwatch {

// Installs the capturing print callback once per process (libbpf_set_print is process-wide).
void InstallLibbpfLog();

// Starts a fresh capture; call before a libbpf step whose failure should carry the log.
void ResetLibbpfLog();

// The tail of what libbpf printed since the last reset (bounded, whole lines), or "".
std::string LibbpfLogTail();

}  // namespace lbwatch
