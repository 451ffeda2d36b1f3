// nsOwner(path): the inode of the namespace file at `path` and of the user namespace that owns it
// (ioctl NS_GET_USERNS), read through one open file so both describe the same namespace even when
// the process behind a /proc/PID/ns path changes namespace meanwhile. Errors are errno errors like
// the probe's (code, errno).
#include "ns-owner.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "probe.h"

namespace lbwatch {

Napi::Value NsOwner(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) {
    Napi::TypeError::New(env, "nsOwner(path): path must be a string").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string path = info[0].As<Napi::String>();
  int ns = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (ns < 0) {
    ErrnoError(env, errno, "open " + path).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  struct stat ns_stat {};
  struct stat owner_stat {};
  int owner = -1;
  std::string step;
  if (fstat(ns, &ns_stat) != 0) {
    step = "fstat " + path;
  } else if ((owner = ioctl(ns, NS_GET_USERNS)) < 0) {
    step = "ioctl NS_GET_USERNS " + path;
  } else if (fstat(owner, &owner_stat) != 0) {
    step = "fstat the owner of " + path;
  }
  int err = errno;
  if (owner >= 0) close(owner);
  close(ns);
  if (!step.empty()) {
    ErrnoError(env, err, step).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("inode", Napi::Number::New(env, static_cast<double>(ns_stat.st_ino)));
  result.Set("userns", Napi::Number::New(env, static_cast<double>(owner_stat.st_ino)));
  return result;
}

}  // namespace lbwatch
