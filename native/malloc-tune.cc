// glibc raises its mmap threshold to the size of every mmapped chunk freed (up to 32 MiB), so once a
// full render of a large fleet has written and read its multi-MiB buffers, buffers of that size come
// from the brk heap instead, and the heap, which can only shrink from its top, fragments: RSS of a
// controller holding 10,000 backends ratcheted from 140 to 355 MiB over 200 changes while its V8
// heap stayed at 42 MiB. Fixing the threshold (which also fixes the trim threshold) keeps large
// buffers in mappings that free() returns to the kernel. Only C can call mallopt(3).
#include "malloc-tune.h"

#include <malloc.h>

namespace lbwatch {

Napi::Value TuneMalloc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int threshold = info.Length() == 1 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
  // glibc 2.36 takes any value, and a negative one would become a huge size_t that disables mmap.
  if (threshold <= 0) {
    Napi::RangeError::New(env, "tuneMalloc(mmapThresholdBytes): a positive 32-bit number").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // mallopt returns 1 on success, 0 on an out-of-range value.
  const bool ok = mallopt(M_MMAP_THRESHOLD, threshold) == 1 && mallopt(M_TRIM_THRESHOLD, threshold) == 1;
  return Napi::Boolean::New(env, ok);
}

// free() returns only the top of the brk heap to the kernel: a chunk still live above them keeps
// every page freed below it resident (25 MiB of them once a controller holding 100,000 backends had
// read HAProxy's state and written dest). malloc_trim(3) hands those pages back.
Napi::Value TrimMalloc(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), malloc_trim(0) == 1);
}

}  // namespace lbwatch
