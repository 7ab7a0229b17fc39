// libvirt helpers for worker threads: errors as C++ exceptions, owning handles.
#pragma once

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace drover {

// A libvirt error, captured on the thread whose call failed (libvirt errors are thread-local).
struct Failure {
  int code;
  int domain;
  std::string message;
};

// The calling thread's last libvirt error. Every libvirt call resets it, freeing a handle too,
// so read it before any handle acquired after the failing call is released.
Failure lastFailure();
// Whether the calling thread's last libvirt error has the given code.
bool lastErrorIs(int code);

[[noreturn]] inline void fail() { throw lastFailure(); }

inline int check(int result) {
  if (result < 0) fail();
  return result;
}

template <class T>
T* check(T* result) {
  if (!result) fail();
  return result;
}

template <class T, int (*Free)(T*)>
struct Freer {
  void operator()(T* handle) const { Free(handle); }
};
using Domain = std::unique_ptr<virDomain, Freer<virDomain, virDomainFree>>;
using Pool = std::unique_ptr<virStoragePool, Freer<virStoragePool, virStoragePoolFree>>;
using Volume = std::unique_ptr<virStorageVol, Freer<virStorageVol, virStorageVolFree>>;
using Network = std::unique_ptr<virNetwork, Freer<virNetwork, virNetworkFree>>;

// Takes ownership of a string libvirt allocated.
inline std::string take(char* owned) {
  std::string text = check(owned);
  std::free(owned);
  return text;
}

// Takes ownership of a handle array libvirt allocated, as returned by the virConnectListAll* calls.
template <class Handle>
std::vector<Handle> adopt(typename Handle::pointer* list, int count) {
  std::vector<Handle> handles;
  handles.reserve(count);
  for (int i = 0; i < count; i++) handles.emplace_back(list[i]);
  std::free(list);
  return handles;
}

}  // namespace drover
