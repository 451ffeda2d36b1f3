// The JS handle of one loaded probe: owns the attached BPF object, the ring buffer and the uv_poll
// watching the ring's epoll fd on the main loop (no thread, no timer). Each readable wake-up consumes
// every waiting record into one buffer and calls JS once with (buffer, count, drops).
#pragma once

#include <napi.h>
#include <uv.h>

#include <memory>
#include <vector>

#include "bpf-load.h"

struct ring_buffer;
struct bpf_map;

namespace lbwatch {

class Probe : public Napi::ObjectWrap<Probe> {
 public:
  static Napi::Function Define(Napi::Env env);

  // new Probe({ objectPath, hook, ringBytes }): loads and attaches, or throws an Error with
  // code (errno name), errno, hook, step and libbpfLog.
  explicit Probe(const Napi::CallbackInfo& info);
  ~Probe() override;

 private:
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  static int OnRecord(void* ctx, void* data, size_t size);
  static void OnReadable(uv_poll_t* handle, int status, int events);
  static void OnEnvCleanup(void* probe);
  void Deliver();
  void ReportError(int err, const char* step);
  uint64_t ReadDrops();
  void Release();

  Hook hook_ = Hook::kTpBtf;
  std::unique_ptr<Attached> bpf_;
  bpf_map* drops_map_ = nullptr;
  ring_buffer* ring_ = nullptr;
  uv_poll_t* poll_ = nullptr;
  Napi::FunctionReference on_batch_;
  Napi::FunctionReference on_error_;
  std::unique_ptr<Napi::AsyncContext> async_context_;
  std::vector<uint8_t> batch_;       // reused: capacity survives across wake-ups
  std::vector<uint64_t> per_cpu_;    // one drop counter per possible CPU
  uint64_t events_ = 0;
  uint64_t drops_ = 0;
  bool record_size_mismatch_ = false;
};

// A JS Error carrying `code` (errno name such as "EPERM") and `errno`, the way Node's own are.
Napi::Error ErrnoError(Napi::Env env, int err, const std::string& message);

}  // namespace lbwatch
