#pragma once

#include <napi.h>

#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "job.h"

namespace drover {

// The lifecycle-event registration of one connection, shared with the jobs that register and close.
class Subscription {
 public:
  // Records a registration; false when the connection was closed meanwhile (the caller then deregisters).
  bool keep(int id) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return false;
    id_ = id;
    return true;
  }
  // Marks the connection closed and hands over the registration to deregister (-1 for none).
  int close() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    return std::exchange(id_, -1);
  }

 private:
  std::mutex mutex_;
  int id_ = -1;
  bool closed_ = false;
};

class Connection : public Napi::ObjectWrap<Connection> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Value Open(const Napi::CallbackInfo& info);
  explicit Connection(const Napi::CallbackInfo& info);

 private:
  template <class F>
  Napi::Value run(const Napi::CallbackInfo& info, F work) {
    if (!conn_) throw Napi::Error::New(info.Env(), "the libvirt connection is closed");
    return schedule(info.Env(), conn_, std::move(work));
  }

  // Runs work on a thread of its own (see ThreadJob); its result (if any) becomes JS through toJs.
  template <class F>
  Napi::Value runOnThread(const Napi::CallbackInfo& info, F work) {
    if (!conn_) throw Napi::Error::New(info.Env(), "the libvirt connection is closed");
    return ThreadJob::Start(info.Env(), conn_, [work = std::move(work)](virConnectPtr conn) -> Build {
      if constexpr (std::is_void_v<std::invoke_result_t<F&, virConnectPtr>>) {
        work(conn);
        return [](Napi::Env env) -> Napi::Value { return env.Undefined(); };
      } else {
        return [value = work(conn)](Napi::Env env) -> Napi::Value { return toJs(env, value); };
      }
    });
  }

  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value NodeInfo(const Napi::CallbackInfo& info);
  Napi::Value Hostname(const Napi::CallbackInfo& info);
  Napi::Value HypervisorType(const Napi::CallbackInfo& info);
  Napi::Value HypervisorVersion(const Napi::CallbackInfo& info);
  Napi::Value LibraryVersion(const Napi::CallbackInfo& info);
  Napi::Value WatchLifecycle(const Napi::CallbackInfo& info);
  Napi::Value Capabilities(const Napi::CallbackInfo& info);
  Napi::Value IsAlive(const Napi::CallbackInfo& info);
  Napi::Value SetKeepAlive(const Napi::CallbackInfo& info);
  Napi::Value WatchReboot(const Napi::CallbackInfo& info);

  Napi::Value ListDomains(const Napi::CallbackInfo& info);
  Napi::Value DomainStatus(const Napi::CallbackInfo& info);
  Napi::Value DomainXml(const Napi::CallbackInfo& info);
  Napi::Value DomainMetadata(const Napi::CallbackInfo& info);
  Napi::Value DefineDomain(const Napi::CallbackInfo& info);
  Napi::Value DomainOperation(const Napi::CallbackInfo& info);
  Napi::Value SaveDomain(const Napi::CallbackInfo& info);
  Napi::Value RestoreDomain(const Napi::CallbackInfo& info);
  Napi::Value AttachDevice(const Napi::CallbackInfo& info);
  Napi::Value DetachDevice(const Napi::CallbackInfo& info);
  Napi::Value UpdateDevice(const Napi::CallbackInfo& info);
  Napi::Value MigrateDomain(const Napi::CallbackInfo& info);
  Napi::Value MigrationJob(const Napi::CallbackInfo& info);
  Napi::Value AbortMigration(const Napi::CallbackInfo& info);
  Napi::Value SetDomainMetadata(const Napi::CallbackInfo& info);

  Napi::Value ListStoragePools(const Napi::CallbackInfo& info);
  Napi::Value StoragePoolInfo(const Napi::CallbackInfo& info);
  Napi::Value StoragePoolXml(const Napi::CallbackInfo& info);
  Napi::Value DefineStoragePool(const Napi::CallbackInfo& info);
  Napi::Value BuildStoragePool(const Napi::CallbackInfo& info);
  Napi::Value StartStoragePool(const Napi::CallbackInfo& info);
  Napi::Value StopStoragePool(const Napi::CallbackInfo& info);
  Napi::Value UndefineStoragePool(const Napi::CallbackInfo& info);
  Napi::Value RefreshStoragePool(const Napi::CallbackInfo& info);
  Napi::Value ListVolumes(const Napi::CallbackInfo& info);
  Napi::Value CreateVolume(const Napi::CallbackInfo& info);
  Napi::Value CloneVolume(const Napi::CallbackInfo& info);
  Napi::Value VolumeInfo(const Napi::CallbackInfo& info);
  Napi::Value VolumeXml(const Napi::CallbackInfo& info);
  Napi::Value DeleteVolume(const Napi::CallbackInfo& info);

  Napi::Value ListNetworks(const Napi::CallbackInfo& info);
  Napi::Value NetworkXml(const Napi::CallbackInfo& info);
  Napi::Value DefineNetwork(const Napi::CallbackInfo& info);
  Napi::Value StartNetwork(const Napi::CallbackInfo& info);
  Napi::Value StopNetwork(const Napi::CallbackInfo& info);
  Napi::Value UndefineNetwork(const Napi::CallbackInfo& info);

  // The connection's own reference; null once closed. A connection dropped without close() is leaked.
  virConnectPtr conn_ = nullptr;
  std::shared_ptr<Subscription> lifecycle_ = std::make_shared<Subscription>();
  bool watching_ = false;
  std::shared_ptr<Subscription> reboot_ = std::make_shared<Subscription>();
  bool watchingReboot_ = false;
};

// Argument readers; they throw a TypeError for a wrong type.
std::string text(const Napi::CallbackInfo& info, size_t index);
bool flag(const Napi::CallbackInfo& info, size_t index);


}  // namespace drover
