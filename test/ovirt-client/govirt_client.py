#!/usr/bin/python3
"""Drive Drover's oVirt-compatible REST API with libgovirt (GoVirt 1.0 via GObject introspection).

Run with Debian's python (needs python3-gi and gir1.2-govirt-1.0):

  /usr/bin/python3 test/ovirt-client/govirt_client.py --url https://127.0.0.1:PORT/ovirt-engine/api \
      --ca-file DATA_DIR/pki/ca.pem --vm-name NAME (--username admin@internal --password PW | --token TOKEN)

Over https it trusts only the CA certificate in --ca-file (libgovirt's ssl-ca-file property, with strict
certificate checking, libgovirt's default), or the system's CAs without it.

Fetches the API root, lists hosts and VMs, finds NAME with the search API (search=name=NAME), reads the
file in each of its CD-ROM drives ("" when empty), starts it, refreshes until it is up, reads the
host it runs on (its name, its cluster's name, and the names of its VMs), stops it, refreshes until
it is down, then prints one JSON line:
  {"hosts": [names], "listed": [names], "searched": [names], "found": "<id>", "cdroms": [files],
   "host": name, "host_cluster": name, "host_vms": [names], "states": ["down", ..., "up", ..., "down"]}
Exits 1 with a message on stderr on any failure. See docs/OVIRT-CLIENTS.md for what libgovirt sends.
"""
import argparse
import json
import os
import sys
import time
from urllib.parse import urlsplit

observed = {}


def fail(message):
    print(f"govirt_client: {message}", file=sys.stderr)
    print(f"govirt_client: observed so far: {json.dumps(observed)}", file=sys.stderr)
    sys.exit(1)


def step(what, call):
    """Run one libgovirt call; a GError or a False/None result (libgovirt drops some errors) fails."""
    from gi.repository import GLib
    try:
        result = call()
    except GLib.Error as e:
        fail(f"{what} failed: {e.message} [{e.domain} {e.code}]")
    if result is None or result is False:
        fail(f"{what} failed: libgovirt returned {result!r} (see its warnings above)")
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True, help="API root, e.g. https://127.0.0.1:8080/ovirt-engine/api")
    ap.add_argument("--ca-file", help="PEM file of the CA to trust over https, e.g. Drover's DATA_DIR/pki/ca.pem")
    ap.add_argument("--vm-name", required=True)
    ap.add_argument("--username")
    ap.add_argument("--password")
    ap.add_argument("--token", help="SSO token, sent as 'Authorization: Bearer TOKEN'")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for each state")
    args = ap.parse_args()
    if bool(args.token) == bool(args.username) or bool(args.username) != (args.password is not None):
        ap.error("give either --token, or --username and --password")

    url = urlsplit(args.url)
    # libgovirt hard-codes the root path /ovirt-engine/api; it takes only "host:port" (a full URL
    # ending in /ovirt-engine/api would make it request /ovirt-engine/ovirt-engine/api).
    if url.scheme not in ("http", "https") or not url.netloc:
        fail(f"--url must be http(s)://HOST:PORT/ovirt-engine/api, got {args.url!r}")
    if url.path.rstrip("/") != "/ovirt-engine/api":
        fail(f"libgovirt always uses /ovirt-engine/api as the API root, not {url.path!r}")
    if url.scheme == "http":
        if args.ca_file:
            fail("--ca-file is for https URLs")
        os.environ["GOVIRT_DISABLE_HTTPS"] = "1"  # read by ovirt_proxy_new(): plain-HTTP mode

    import gi
    gi.require_version("GoVirt", "1.0")
    from gi.repository import GoVirt

    proxy = GoVirt.Proxy.new(url.netloc)
    if args.ca_file:
        proxy.set_property("ssl-ca-file", os.path.abspath(args.ca_file))  # GLib wants an absolute path
    if not proxy.get_property("ssl-strict"):
        fail("libgovirt does not check the server's certificate (is GOVIRT_NO_SSL_STRICT set?)")
    proxy.set_property("admin", True)  # sends "Filter: false" instead of "Filter: true"
    if args.token:
        proxy.set_property("sso-token", args.token)
    else:
        proxy.set_property("username", args.username)
        proxy.set_property("password", args.password)

    api = step("fetching the API root", proxy.fetch_api)

    hosts = api.get_hosts()
    if hosts is None:
        fail('the API root has no <link rel="hosts">')
    step("listing hosts", lambda: hosts.fetch(proxy))
    observed["hosts"] = sorted(hosts.get_resources() or {})

    vms = api.get_vms()
    if vms is None:
        fail('the API root has no <link rel="vms">')
    step("listing VMs", lambda: vms.fetch(proxy))
    observed["listed"] = sorted(vms.get_resources() or {})

    search = api.search_vms(f"name={args.vm_name}")
    if search is None:
        fail('the API root has no <link rel="vms/search">')
    step("searching VMs", lambda: search.fetch(proxy))
    found = search.get_resources() or {}
    observed["searched"] = sorted(found)
    vm = found.get(args.vm_name)
    if vm is None:
        fail(f"search name={args.vm_name} did not return a VM called {args.vm_name!r}")
    observed["found"] = vm.get_property("guid")

    cdroms = vm.get_cdroms()
    if cdroms is None:
        fail(f'VM {args.vm_name} has no <link rel="cdroms">')
    step(f"listing the CD-ROM drives of VM {args.vm_name}", lambda: cdroms.fetch(proxy))
    # Not refreshed one by one: libgovirt adds "current" with a NULL value to a CD-ROM's own calls, which
    # librest 1.0 refuses with a critical (see docs/OVIRT-CLIENTS.md).
    observed["cdroms"] = [drive.get_property("file") or "" for drive in (cdroms.get_resources() or {}).values()]

    states = observed["states"] = [vm.get_property("state").value_nick]

    def wait_for(target):
        deadline = time.monotonic() + args.timeout
        while True:
            step(f"refreshing VM {args.vm_name}", lambda: vm.refresh(proxy))
            state = vm.get_property("state").value_nick
            if state != states[-1]:
                states.append(state)
            if state == target:
                return
            if time.monotonic() > deadline:
                fail(f"VM {args.vm_name} not {target} after {args.timeout:g}s (state {state})")
            time.sleep(0.2)

    step(f"starting VM {args.vm_name}", lambda: vm.start(proxy))
    wait_for("up")

    host = vm.get_host()
    if host is None:
        fail(f"VM {args.vm_name} is up but has no <host>")
    step(f"refreshing the host of VM {args.vm_name}", lambda: host.refresh(proxy))
    observed["host"] = host.get_property("name")
    cluster = host.get_cluster()
    if cluster is None:
        fail(f"host {observed['host']} has no <cluster>")
    step(f"refreshing the cluster of host {observed['host']}", lambda: cluster.refresh(proxy))
    observed["host_cluster"] = cluster.get_property("name")
    host_vms = host.get_vms()
    if host_vms is None:
        fail(f'host {observed["host"]} has no <link rel="vms">')
    step(f"listing the VMs of host {observed['host']}", lambda: host_vms.fetch(proxy))
    observed["host_vms"] = sorted(host_vms.get_resources() or {})
    step(f"stopping VM {args.vm_name}", lambda: vm.stop(proxy))
    wait_for("down")

    print(json.dumps(observed), flush=True)


if __name__ == "__main__":
    main()
