#pragma once
// Keeps the node certificate fresh without a restart: at two thirds of its lifetime
// the renewer makes a new key and CSR, calls Renew with the current certificate,
// swaps node.key/node.crt, and tells the owner, who rebuilds its channel (a TLS
// connection keeps the credential it was opened with).
//
// Thread safety: one background thread; on_renewed runs on it. The destructor stops
// the thread and waits for it (an on_renewed in progress finishes first).

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/pki.h"
#include "common/status.h"

namespace reef::agent {

struct CertRenewerOptions {
  std::string server;    // the controller, HOST:PORT
  std::string data_dir;  // holds pki/node.crt and pki/node.key (join.h)
  // Called after each renewal with the new certificate.
  std::function<void(const pki::Certificate&)> on_renewed;
  // First delay after a failed renewal; doubles up to max_retry_delay.
  absl::Duration retry_delay = absl::Seconds(1);
  absl::Duration max_retry_delay = absl::Minutes(5);
};

class CertRenewer {
 public:
  // Fails when there is no node certificate to renew.
  static absl::StatusOr<std::unique_ptr<CertRenewer>> Start(CertRenewerOptions options);
  ~CertRenewer();
  CertRenewer(const CertRenewer&) = delete;
  CertRenewer& operator=(const CertRenewer&) = delete;

  // When a certificate valid from not_before to not_after is due for renewal.
  static absl::Time RenewalTime(absl::Time not_before, absl::Time not_after);

 private:
  explicit CertRenewer(CertRenewerOptions options) : options_(std::move(options)) {}
  void Loop();
  // Sleeps until `t` or Stop; false when stopping.
  bool SleepUntil(absl::Time t);

  const CertRenewerOptions options_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace reef::agent
