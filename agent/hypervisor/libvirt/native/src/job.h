// One promise-returning job per call: blocking libvirt work on a libuv worker
// thread, then a closure that builds the JS result on the main thread.
#pragma once

#include <napi.h>

#include <functional>
#include <optional>
#include <thread>
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

// Like Job, but on a thread of its own rather than on libuv's pool, for a call that blocks for minutes (a migration):
// pool threads stay free for the other calls meanwhile.
class ThreadJob final {
 public:
  static Napi::Promise Start(Napi::Env env, virConnectPtr conn, Work work) {
    auto* state = new State{Napi::Promise::Deferred::New(env), {}, {}};
    Napi::Promise promise = state->deferred.Promise();
    auto done = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "drover_libvirt_thread", 0, 1);
    if (conn) virConnectRef(conn);
    std::thread([done, conn, work = std::move(work), state]() mutable {
      try {
        state->build = work(conn);
      } catch (const Failure& failure) {
        state->failure = failure;
      } catch (const std::exception& error) {
        state->failure = Failure{VIR_ERR_INTERNAL_ERROR, VIR_FROM_NONE, error.what()};
      }
      if (conn) virConnectClose(conn);
      done.BlockingCall(state, [](Napi::Env env, Napi::Function, State* state) {
        if (state->failure) state->deferred.Reject(errorValue(env, *state->failure));
        else {
          try {
            state->deferred.Resolve(state->build(env));
          } catch (const Napi::Error& error) {
            state->deferred.Reject(error.Value());
          }
        }
        delete state;
      });
      done.Release();
    }).detach();
    return promise;
  }

 private:
  struct State {
    Napi::Promise::Deferred deferred;
    Build build;
    std::optional<Failure> failure;
  };
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
