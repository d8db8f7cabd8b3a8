#include "agent/cluster/cert_renewer.h"

#include <algorithm>

#include "agent/cluster/join.h"
#include "common/clock.h"
#include "common/log.h"

namespace reef::agent {

absl::StatusOr<std::unique_ptr<CertRenewer>> CertRenewer::Start(CertRenewerOptions options) {
  RETURN_IF_ERROR(LoadNodeCertificate(options.data_dir).status());
  std::unique_ptr<CertRenewer> renewer(new CertRenewer(std::move(options)));
  renewer->thread_ = std::thread([r = renewer.get()] { r->Loop(); });
  return renewer;
}

CertRenewer::~CertRenewer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::Time CertRenewer::RenewalTime(absl::Time not_before, absl::Time not_after) {
  return not_before + (not_after - not_before) * 2 / 3;
}

bool CertRenewer::SleepUntil(absl::Time t) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithDeadline(absl::Condition(&stopping_), t);
  return !stopping_;
}

void CertRenewer::Loop() {
  absl::Duration retry = options_.retry_delay;
  while (true) {
    auto current = LoadNodeCertificate(options_.data_dir);
    absl::Time due = current.ok() ? RenewalTime(current->not_before(), current->not_after()) : absl::Now();
    if (current.ok()) {
      REEF_LOG(Debug) << "node certificate valid until " << FormatTimestamp(current->not_after())
                      << ", renewal at " << FormatTimestamp(due);
    }
    if (!SleepUntil(due)) return;
    auto renewed = RenewNodeCertificate(options_.server, options_.data_dir);
    if (renewed.ok()) {
      REEF_LOG(Info) << "renewed the node certificate; valid until " << FormatTimestamp(renewed->not_after());
      retry = options_.retry_delay;
      if (options_.on_renewed) options_.on_renewed(*renewed);
      continue;
    }
    REEF_LOG(Warning) << "renew the node certificate: " << renewed.status().message() << " (retry in "
                      << absl::FormatDuration(retry) << ")";
    if (!SleepUntil(absl::Now() + retry)) return;
    retry = std::min(retry * 2, options_.max_retry_delay);
  }
}

}  // namespace reef::agent
