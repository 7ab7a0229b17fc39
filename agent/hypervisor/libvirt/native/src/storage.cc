#include <optional>

#include "connection.h"

namespace drover {

struct PoolEntry {
  std::string name;
  std::string uuid;
  bool active;
  bool persistent;
};

struct PoolStats {
  virStoragePoolInfo info;
};

struct VolumeEntry {
  std::string name;
  std::string path;
  std::string key;
};

struct VolumeStats {
  virStorageVolInfo info;
};

Napi::Value toJs(Napi::Env env, const PoolEntry& pool) {
  auto result = Napi::Object::New(env);
  result.Set("name", pool.name);
  result.Set("uuid", pool.uuid);
  result.Set("active", pool.active);
  result.Set("persistent", pool.persistent);
  return result;
}

Napi::Value toJs(Napi::Env env, const PoolStats& pool) {
  auto result = Napi::Object::New(env);
  result.Set("state", pool.info.state);
  result.Set("capacity", static_cast<double>(pool.info.capacity));
  result.Set("allocation", static_cast<double>(pool.info.allocation));
  result.Set("available", static_cast<double>(pool.info.available));
  return result;
}

Napi::Value toJs(Napi::Env env, const VolumeEntry& volume) {
  auto result = Napi::Object::New(env);
  result.Set("name", volume.name);
  result.Set("path", volume.path);
  result.Set("key", volume.key);
  return result;
}

Napi::Value toJs(Napi::Env env, const VolumeStats& volume) {
  auto result = Napi::Object::New(env);
  result.Set("type", volume.info.type);
  result.Set("capacity", static_cast<double>(volume.info.capacity));
  result.Set("allocation", static_cast<double>(volume.info.allocation));
  return result;
}

static PoolEntry entryOf(virStoragePoolPtr pool) {
  char uuid[VIR_UUID_STRING_BUFLEN];
  check(virStoragePoolGetUUIDString(pool, uuid));
  return {check(virStoragePoolGetName(pool)), uuid, check(virStoragePoolIsActive(pool)) == 1, check(virStoragePoolIsPersistent(pool)) == 1};
}

static VolumeEntry entryOf(virStorageVolPtr volume) {
  return {check(virStorageVolGetName(volume)), take(virStorageVolGetPath(volume)), check(virStorageVolGetKey(volume))};
}

static Pool lookupPool(virConnectPtr conn, const std::string& name) { return Pool(check(virStoragePoolLookupByName(conn, name.c_str()))); }

static Volume lookupVolume(virConnectPtr conn, const std::string& pool, const std::string& name) {
  return Volume(check(virStorageVolLookupByName(lookupPool(conn, pool).get(), name.c_str())));
}

Napi::Value Connection::ListStoragePools(const Napi::CallbackInfo& info) {
  return run(info, [](virConnectPtr conn) {
    virStoragePoolPtr* raw = nullptr;
    int count = check(virConnectListAllStoragePools(conn, &raw, 0));
    std::vector<PoolEntry> pools;
    for (auto& pool : adopt<Pool>(raw, count)) pools.push_back(entryOf(pool.get()));
    return pools;
  });
}

Napi::Value Connection::StoragePoolInfo(const Napi::CallbackInfo& info) {
  return run(info, [name = text(info, 0)](virConnectPtr conn) -> std::optional<PoolStats> {
    Pool pool(virStoragePoolLookupByName(conn, name.c_str()));
    if (!pool && lastErrorIs(VIR_ERR_NO_STORAGE_POOL)) return std::nullopt;
    PoolStats stats{};
    check(virStoragePoolGetInfo(check(pool.get()), &stats.info));
    return stats;
  });
}

Napi::Value Connection::StoragePoolXml(const Napi::CallbackInfo& info) {
  return run(info, [name = text(info, 0)](virConnectPtr conn) { return take(virStoragePoolGetXMLDesc(lookupPool(conn, name).get(), 0)); });
}

Napi::Value Connection::DefineStoragePool(const Napi::CallbackInfo& info) {
  return run(info, [xml = text(info, 0)](virConnectPtr conn) { return entryOf(Pool(check(virStoragePoolDefineXML(conn, xml.c_str(), 0))).get()); });
}

Napi::Value Connection::BuildStoragePool(const Napi::CallbackInfo& info) {
  return run(info, [name = text(info, 0)](virConnectPtr conn) { check(virStoragePoolBuild(lookupPool(conn, name).get(), 0)); });
}

Napi::Value Connection::StartStoragePool(const Napi::CallbackInfo& info) {
  return run(info, [name = text(info, 0)](virConnectPtr conn) { check(virStoragePoolCreate(lookupPool(conn, name).get(), 0)); });
}

Napi::Value Connection::StopStoragePool(const Napi::CallbackInfo& info) {
  return run(info, [name = text(info, 0)](virConnectPtr conn) { check(virStoragePoolDestroy(lookupPool(conn, name).get())); });
}

Napi::Value Connection::UndefineStoragePool(const Napi::CallbackInfo& info) {
  return run(info, [name = text(info, 0)](virConnectPtr conn) { check(virStoragePoolUndefine(lookupPool(conn, name).get())); });
}

Napi::Value Connection::RefreshStoragePool(const Napi::CallbackInfo& info) {
  return run(info, [name = text(info, 0)](virConnectPtr conn) { check(virStoragePoolRefresh(lookupPool(conn, name).get(), 0)); });
}

Napi::Value Connection::ListVolumes(const Napi::CallbackInfo& info) {
  return run(info, [name = text(info, 0)](virConnectPtr conn) {
    virStorageVolPtr* raw = nullptr;
    int count = check(virStoragePoolListAllVolumes(lookupPool(conn, name).get(), &raw, 0));
    std::vector<VolumeEntry> volumes;
    for (auto& volume : adopt<Volume>(raw, count)) volumes.push_back(entryOf(volume.get()));
    return volumes;
  });
}

Napi::Value Connection::CreateVolume(const Napi::CallbackInfo& info) {
  return run(info, [pool = text(info, 0), xml = text(info, 1)](virConnectPtr conn) {
    return entryOf(Volume(check(virStorageVolCreateXML(lookupPool(conn, pool).get(), xml.c_str(), 0))).get());
  });
}

Napi::Value Connection::CloneVolume(const Napi::CallbackInfo& info) {
  return run(info, [pool = text(info, 0), xml = text(info, 1), sourcePool = text(info, 2), sourceName = text(info, 3)](virConnectPtr conn) {
    Volume source = lookupVolume(conn, sourcePool, sourceName);
    return entryOf(Volume(check(virStorageVolCreateXMLFrom(lookupPool(conn, pool).get(), xml.c_str(), source.get(), 0))).get());
  });
}

Napi::Value Connection::VolumeInfo(const Napi::CallbackInfo& info) {
  return run(info, [pool = text(info, 0), name = text(info, 1)](virConnectPtr conn) -> std::optional<VolumeStats> {
    Pool owner = lookupPool(conn, pool);
    Volume volume(virStorageVolLookupByName(owner.get(), name.c_str()));
    if (!volume && lastErrorIs(VIR_ERR_NO_STORAGE_VOL)) return std::nullopt;
    VolumeStats stats{};
    check(virStorageVolGetInfo(check(volume.get()), &stats.info));
    return stats;
  });
}

Napi::Value Connection::VolumeXml(const Napi::CallbackInfo& info) {
  return run(info, [pool = text(info, 0), name = text(info, 1)](virConnectPtr conn) {
    return take(virStorageVolGetXMLDesc(lookupVolume(conn, pool, name).get(), 0));
  });
}

Napi::Value Connection::DeleteVolume(const Napi::CallbackInfo& info) {
  return run(info, [pool = text(info, 0), name = text(info, 1)](virConnectPtr conn) { check(virStorageVolDelete(lookupVolume(conn, pool, name).get(), 0)); });
}

}  // namespace drover
