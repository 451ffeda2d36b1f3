// lbwatch native addon: exports the Probe class, the C layout of struct lbwatch_event, which
// test/probe/event-layout.test.ts compares with the offsets src/probe/decode.ts reads, nsOwner
// tuneMalloc and trimMalloc.
#include <linux/types.h>
#include <napi.h>

#include <cstddef>

#include "lbwatch.h"
#include "libbpf-log.h"
#include "malloc-tune.h"
#include "ns-owner.h"
#include "probe.h"

namespace {

#define LBWATCH_FIELD(name)                                                     \
  fields.Set(#name, Field(env, offsetof(struct lbwatch_event, name),            \
                          sizeof(static_cast<struct lbwatch_event*>(nullptr)->name)))

Napi::Object Field(Napi::Env env, size_t offset, size_t size) {
  Napi::Object field = Napi::Object::New(env);
  field.Set("offset", offset);
  field.Set("size", size);
  return field;
}

Napi::Object Layout(Napi::Env env) {
  Napi::Object fields = Napi::Object::New(env);
  LBWATCH_FIELD(ts);
  LBWATCH_FIELD(cgroup_id);
  LBWATCH_FIELD(sock);
  LBWATCH_FIELD(netns);
  LBWATCH_FIELD(pid);
  LBWATCH_FIELD(tid);
  LBWATCH_FIELD(uid);
  LBWATCH_FIELD(gid);
  LBWATCH_FIELD(backlog);
  LBWATCH_FIELD(port);
  LBWATCH_FIELD(family);
  LBWATCH_FIELD(type);
  LBWATCH_FIELD(oldstate);
  LBWATCH_FIELD(newstate);
  LBWATCH_FIELD(pad);
  LBWATCH_FIELD(addr);
  LBWATCH_FIELD(comm);
  Napi::Object layout = Napi::Object::New(env);
  layout.Set("size", sizeof(struct lbwatch_event));
  layout.Set("fields", fields);
  layout.Set("listen", static_cast<uint32_t>(LBWATCH_LISTEN));
  layout.Set("close", static_cast<uint32_t>(LBWATCH_CLOSE));
  return layout;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  lbwatch::InstallLibbpfLog();
  exports.Set("Probe", lbwatch::Probe::Define(env));
  exports.Set("layout", Layout(env));
  exports.Set("nsOwner", Napi::Function::New(env, lbwatch::NsOwner, "nsOwner"));
  exports.Set("tuneMalloc", Napi::Function::New(env, lbwatch::TuneMalloc, "tuneMalloc"));
  exports.Set("trimMalloc", Napi::Function::New(env, lbwatch::TrimMalloc, "trimMalloc"));
  return exports;
}

}  // namespace

NODE_API_MODULE(lbwatch, Init)
