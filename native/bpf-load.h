// Opening, loading and attaching bpf/lbwatch.bpf.o for one hook. Plain C++ over libbpf: no Node-API
// here, so the Probe class only deals with JS and the ring buffer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct bpf_object;
struct bpf_link;
struct bpf_map;

namespace lbwatch {

enum class Hook { kTpBtf, kTracepoint, kKprobe };

// "tp_btf" | "tracepoint" | "kprobe" (the TS HookName); false for anything else.
bool ParseHook(const std::string& name, Hook* hook);
const char* HookName(Hook hook);

// Why a load failed: a positive errno and the step that returned it ("load", "attach lbwatch_tp_btf").
struct LoadError {
  int err = 0;
  std::string step;
};

// A loaded object with its hook's programs attached. Destroying it detaches them and closes the object.
class Attached {
 public:
  Attached(bpf_object* object) : object_(object) {}
  ~Attached();
  Attached(const Attached&) = delete;
  Attached& operator=(const Attached&) = delete;

  bpf_map* Map(const char* name) const;
  void AddLink(bpf_link* link) { links_.push_back(link); }

 private:
  bpf_object* object_;
  std::vector<bpf_link*> links_;
};

// Opens the object at `path`, enables only `hook`'s programs (bpf_program__set_autoload), sizes the
// ring buffer to `ring_bytes`, loads and attaches. Returns nullptr and fills `error` on failure.
std::unique_ptr<Attached> LoadAndAttach(const std::string& path, Hook hook, uint32_t ring_bytes,
                                        LoadError* error);

}  // namespace lbwatch
