#include "bpf-load.h"

#include <bpf/libbpf.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lbwatch {
namespace {

constexpr const char* kTracefs = "/sys/kernel/tracing";

// Which hook a program belongs to, from its ELF section ("tp_btf/...", "kretprobe/...").
bool ProgramServes(const bpf_program* prog, Hook hook) {
  const char* sec = bpf_program__section_name(prog);
  auto starts = [sec](const char* prefix) { return strncmp(sec, prefix, strlen(prefix)) == 0; };
  switch (hook) {
    case Hook::kTpBtf:
      return starts("tp_btf/");
    case Hook::kTracepoint:
      return starts("tracepoint/");
    case Hook::kKprobe:
      return starts("kprobe/") || starts("kretprobe/");
  }
  return false;
}

// libbpf resolves tracepoint ids under tracefs; a fresh machine has it unmounted. Mounting it is
// harmless and stays after exit (like `mount -t tracefs`), so it is done only for this hook.
int EnsureTracefs() {
  if (access("/sys/kernel/tracing/events", F_OK) == 0 || access("/sys/kernel/debug/tracing/events", F_OK) == 0)
    return 0;
  return mount("tracefs", kTracefs, "tracefs", 0, nullptr) == 0 ? 0 : errno;
}

// libbpf returns -errno or sets errno; either way `error` gets the positive value.
std::unique_ptr<Attached> Fail(LoadError* error, int err, std::string step) {
  error->err = err < 0 ? -err : err;
  error->step = std::move(step);
  return nullptr;
}

}  // namespace

bool ParseHook(const std::string& name, Hook* hook) {
  for (Hook h : {Hook::kTpBtf, Hook::kTracepoint, Hook::kKprobe}) {
    if (name == HookName(h)) {
      *hook = h;
      return true;
    }
  }
  return false;
}

const char* HookName(Hook hook) {
  switch (hook) {
    case Hook::kTpBtf:
      return "tp_btf";
    case Hook::kTracepoint:
      return "tracepoint";
    case Hook::kKprobe:
      return "kprobe";
  }
  return "?";
}

Attached::~Attached() {
  for (bpf_link* link : links_) bpf_link__destroy(link);
  bpf_object__close(object_);
}

bpf_map* Attached::Map(const char* name) const { return bpf_object__find_map_by_name(object_, name); }

std::unique_ptr<Attached> LoadAndAttach(const std::string& path, Hook hook, uint32_t ring_bytes,
                                        LoadError* error) {
  if (hook == Hook::kTracepoint) {
    if (int err = EnsureTracefs()) return Fail(error, err, std::string("mount tracefs at ") + kTracefs);
  }
  bpf_object* object = bpf_object__open_file(path.c_str(), nullptr);
  if (!object) {
    int err = errno;
    return Fail(error, err, "open " + path);
  }
  auto attached = std::make_unique<Attached>(object);

  bpf_program* prog;
  bpf_object__for_each_program(prog, object) bpf_program__set_autoload(prog, ProgramServes(prog, hook));
  // Only the kprobe hook uses listen_calls; other hooks need not allocate it.
  if (bpf_map* calls = attached->Map("listen_calls")) bpf_map__set_autocreate(calls, hook == Hook::kKprobe);
  bpf_map* ring = attached->Map("events");
  if (!ring) return Fail(error, ENOENT, "find map 'events' in " + path);
  if (int err = bpf_map__set_max_entries(ring, ring_bytes)) return Fail(error, err, "size ring buffer");
  if (int err = bpf_object__load(object)) return Fail(error, err, "load");

  bpf_object__for_each_program(prog, object) {
    if (!bpf_program__autoload(prog)) continue;
    bpf_link* link = bpf_program__attach(prog);
    if (!link) {
      int err = errno;
      return Fail(error, err, std::string("attach ") + bpf_program__name(prog));
    }
    attached->AddLink(link);
  }
  return attached;
}

}  // namespace lbwatch
