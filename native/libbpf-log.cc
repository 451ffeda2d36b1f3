#include "libbpf-log.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>

namespace lbwatch {
namespace {

// Verifier logs run to megabytes; the end says what went wrong.
constexpr size_t kKeepBytes = 4096;

std::string captured;

int Capture(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char line[1024];
  int n = vsnprintf(line, sizeof line, format, args);
  if (n <= 0) return 0;
  captured.append(line, static_cast<size_t>(n) < sizeof line ? n : sizeof line - 1);
  if (captured.size() > 2 * kKeepBytes) captured.erase(0, captured.size() - kKeepBytes);
  return n;
}

}  // namespace

void InstallLibbpfLog() { libbpf_set_print(Capture); }

void ResetLibbpfLog() { captured.clear(); }

std::string LibbpfLogTail() {
  if (captured.size() <= kKeepBytes) return captured;
  size_t start = captured.find('\n', captured.size() - kKeepBytes);
  return start == std::string::npos ? captured : captured.substr(start + 1);
}

}  // namespace lbwatch
