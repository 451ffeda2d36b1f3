#include "probe.h"

#include <bpf/libbpf.h>
#include <linux/types.h>

#include <cerrno>
#include <cstring>

#include "lbwatch.h"
#include "libbpf-log.h"

namespace lbwatch {

Napi::Error ErrnoError(Napi::Env env, int err, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message + ": " + strerror(err));
  error.Set("code", uv_err_name(-err));
  error.Set("errno", Napi::Number::New(env, err));
  return error;
}

Napi::Function Probe::Define(Napi::Env env) {
  return DefineClass(env, "Probe",
                     {InstanceMethod("start", &Probe::Start), InstanceMethod("stats", &Probe::Stats),
                      InstanceMethod("close", &Probe::Close)});
}

Probe::Probe(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Probe>(info) {
  Napi::Env env = info.Env();
  Napi::Object options = info[0].IsObject() ? info[0].As<Napi::Object>() : Napi::Object::New(env);
  if (!options.Get("objectPath").IsString() || !options.Get("hook").IsString() ||
      !options.Get("ringBytes").IsNumber() || !ParseHook(options.Get("hook").As<Napi::String>(), &hook_)) {
    Napi::TypeError::New(env, "Probe: expected { objectPath: string, hook: HookName, ringBytes: number }")
        .ThrowAsJavaScriptException();
    return;
  }
  std::string path = options.Get("objectPath").As<Napi::String>();
  uint32_t ring_bytes = options.Get("ringBytes").As<Napi::Number>().Uint32Value();

  ResetLibbpfLog();
  LoadError load_error;
  bpf_ = LoadAndAttach(path, hook_, ring_bytes, &load_error);
  if (bpf_) {
    drops_map_ = bpf_->Map("drops");
    ring_ = ring_buffer__new(bpf_map__fd(bpf_->Map("events")), &Probe::OnRecord, this, nullptr);
    if (!drops_map_ || !ring_) load_error = {drops_map_ ? errno : ENOENT, "create ring buffer"};
  }
  if (load_error.err) {
    Release();
    Napi::Error error = ErrnoError(env, load_error.err, load_error.step);
    error.Set("hook", HookName(hook_));
    error.Set("step", load_error.step);
    error.Set("libbpfLog", LibbpfLogTail());
    error.ThrowAsJavaScriptException();
    return;
  }
  per_cpu_.resize(libbpf_num_possible_cpus());
}

Probe::~Probe() { Release(); }

// start(onBatch(buffer, count, drops), onError(error)): begins watching the ring. Once started the
// handle keeps itself (and the loop) alive until close().
Napi::Value Probe::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ring_ || poll_) {
    Napi::Error::New(env, ring_ ? "probe already started" : "probe is closed").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!info[0].IsFunction() || !info[1].IsFunction()) {
    Napi::TypeError::New(env, "start(onBatch, onError): both must be functions").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  auto* poll = new uv_poll_t;
  poll->data = this;
  int err = uv_poll_init(loop, poll, ring_buffer__epoll_fd(ring_));
  if (err != 0) {
    delete poll;  // a failed uv_poll_init leaves nothing registered with the loop
    ErrnoError(env, -err, "watch ring buffer").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  poll_ = poll;
  err = uv_poll_start(poll_, UV_READABLE, &Probe::OnReadable);
  if (err != 0) {
    Release();
    ErrnoError(env, -err, "watch ring buffer").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  on_batch_ = Napi::Persistent(info[0].As<Napi::Function>());
  on_error_ = Napi::Persistent(info[1].As<Napi::Function>());
  async_context_ = std::make_unique<Napi::AsyncContext>(env, "lbwatch:ring");
  napi_add_env_cleanup_hook(env, &Probe::OnEnvCleanup, this);
  Ref();
  return env.Undefined();
}

Napi::Value Probe::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object stats = Napi::Object::New(env);
  stats.Set("events", static_cast<double>(events_));
  stats.Set("drops", static_cast<double>(ring_ ? ReadDrops() : drops_));
  stats.Set("hook", HookName(hook_));
  return stats;
}

Napi::Value Probe::Close(const Napi::CallbackInfo& info) {
  bool started = poll_ != nullptr;
  if (started) napi_remove_env_cleanup_hook(info.Env(), &Probe::OnEnvCleanup, this);
  Release();
  if (started) Unref();
  return info.Env().Undefined();
}

void Probe::OnEnvCleanup(void* probe) { static_cast<Probe*>(probe)->Release(); }

int Probe::OnRecord(void* ctx, void* data, size_t size) {
  auto* self = static_cast<Probe*>(ctx);
  if (size != sizeof(lbwatch_event)) {
    self->record_size_mismatch_ = true;
    return 0;
  }
  auto* bytes = static_cast<uint8_t*>(data);
  self->batch_.insert(self->batch_.end(), bytes, bytes + size);
  return 0;
}

void Probe::OnReadable(uv_poll_t* handle, int status, int /*events*/) {
  auto* self = static_cast<Probe*>(handle->data);
  Napi::HandleScope scope(self->Env());
  if (status < 0) return self->ReportError(-status, "watch ring buffer");
  self->Deliver();
}

void Probe::Deliver() {
  Napi::Env env = Env();
  batch_.clear();
  int consumed = ring_buffer__consume(ring_);
  if (consumed < 0) return ReportError(-consumed, "consume ring buffer");
  if (record_size_mismatch_) {
    return ReportError(EPROTO, "ring record size differs from sizeof(struct lbwatch_event): rebuild bpf/ and native/");
  }
  uint64_t drops = ReadDrops();
  size_t count = batch_.size() / sizeof(lbwatch_event);
  if (count == 0 && drops == drops_) return;
  events_ += count;
  drops_ = drops;
  Napi::Buffer<uint8_t> buffer = Napi::Buffer<uint8_t>::Copy(env, batch_.data(), batch_.size());
  on_batch_.MakeCallback(Value(), {buffer, Napi::Number::New(env, count), Napi::Number::New(env, drops)},
                         *async_context_);
  // A throwing listener must surface as an uncaught exception, not vanish in this uv callback.
  if (env.IsExceptionPending()) napi_fatal_exception(env, env.GetAndClearPendingException().Value());
}

void Probe::ReportError(int err, const char* step) {
  Napi::Env env = Env();
  if (on_error_.IsEmpty()) return;
  on_error_.MakeCallback(Value(), {ErrnoError(env, err, step).Value()}, *async_context_);
  if (env.IsExceptionPending()) napi_fatal_exception(env, env.GetAndClearPendingException().Value());
}

// Sum of the per-CPU ring-full counters; the last known value if the lookup fails.
uint64_t Probe::ReadDrops() {
  uint32_t key = 0;
  if (bpf_map__lookup_elem(drops_map_, &key, sizeof key, per_cpu_.data(), per_cpu_.size() * sizeof(uint64_t),
                           0) != 0) {
    return drops_;
  }
  uint64_t sum = 0;
  for (uint64_t n : per_cpu_) sum += n;
  return sum;
}

// Detaches everything: idempotent, safe from close(), the destructor and the env cleanup hook.
void Probe::Release() {
  if (poll_) {
    uv_poll_stop(poll_);
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
  }
  if (ring_) ring_buffer__free(ring_);
  ring_ = nullptr;
  bpf_.reset();
  drops_map_ = nullptr;
  // The async context stays until the destructor: close() may run inside a callback made with it.
  on_batch_.Reset();
  on_error_.Reset();
}

}  // namespace lbwatch
