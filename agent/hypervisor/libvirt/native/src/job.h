// One promise-returning job per call: blocking libvirt work on a libuv worker
// thread, then a closure that builds the JS result on the main thread.
#pragma once

#include <napi.h>

#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "libvirt.h"

namespace drover {

using Build = std::function<Napi::Value(Napi::Env)>;
using Work = std::function<Build(virConnectPtr)>;

Napi::Value errorValue(Napi::Env env, const Failure& failure);

class Job final : public Napi::AsyncWorker {
 public:
  // Queues work, which receives conn (referenced for the job's duration; null for no connection).
  static Napi::Promise Start(Napi::Env env, virConnectPtr conn, Work work) {
    auto* job = new Job(env, conn, std::move(work));
    job->Queue();
    return job->deferred_.Promise();
  }

 private:
  Job(Napi::Env env, virConnectPtr conn, Work work)
      : Napi::AsyncWorker(env, "drover_libvirt"), deferred_(Napi::Promise::Deferred::New(env)), conn_(conn), work_(std::move(work)) {
    if (conn_) virConnectRef(conn_);
  }

  void Execute() override {
    try {
      build_ = work_(conn_);
    } catch (const Failure& failure) {
      failure_ = failure;
    } catch (const std::exception& error) {
      failure_ = Failure{VIR_ERR_INTERNAL_ERROR, VIR_FROM_NONE, error.what()};
    }
    if (conn_) virConnectClose(conn_);
  }

  void OnOK() override {
    if (failure_) return deferred_.Reject(errorValue(Env(), *failure_));
    try {
      deferred_.Resolve(build_(Env()));
    } catch (const Napi::Error& error) {
      deferred_.Reject(error.Value());
    }
  }

  Napi::Promise::Deferred deferred_;
  virConnectPtr conn_;
  Work work_;
  Build build_;
  std::optional<Failure> failure_;
};

inline Napi::Value toJs(Napi::Env env, const std::string& text) { return Napi::String::New(env, text); }
inline Napi::Value toJs(Napi::Env env, double number) { return Napi::Number::New(env, number); }

template <class T>
Napi::Value toJs(Napi::Env env, const std::optional<T>& value) {
  return value ? toJs(env, *value) : env.Null();
}

template <class T>
Napi::Value toJs(Napi::Env env, const std::vector<T>& items) {
  auto array = Napi::Array::New(env, items.size());
  for (size_t i = 0; i < items.size(); i++) array.Set(i, toJs(env, items[i]));
  return array;
}

// Runs work(conn) as a Job; its result (if any) becomes JS through toJs.
template <class F>
Napi::Promise schedule(Napi::Env env, virConnectPtr conn, F work) {
  return Job::Start(env, conn, [work = std::move(work)](virConnectPtr conn) -> Build {
    if constexpr (std::is_void_v<std::invoke_result_t<F&, virConnectPtr>>) {
      work(conn);
      return [](Napi::Env env) -> Napi::Value { return env.Undefined(); };
    } else {
      return [value = work(conn)](Napi::Env env) -> Napi::Value { return toJs(env, value); };
    }
  });
}

}  // namespace drover
