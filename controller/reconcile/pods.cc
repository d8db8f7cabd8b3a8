#include "controller/reconcile/pods.h"

#include <algorithm>

#include "api/manifest/quantity.h"
#include "common/clock.h"

namespace reef::reconcile {
namespace {

Requests ContainerRequests(const v1::Container& c) {
  Requests r;
  const auto& requests = c.resources().requests();
  if (auto it = requests.find("cpu"); it != requests.end()) {
    auto q = manifest::Quantity::Parse(it->second);
    if (q.ok()) r.milli_cpu = q->MilliValue();
  }
  if (auto it = requests.find("memory"); it != requests.end()) {
    auto q = manifest::Quantity::Parse(it->second);
    if (q.ok()) r.memory = q->Value();
  }
  return r;
}

}  // namespace

bool IsActive(const v1::Pod& pod) {
  const std::string& phase = pod.status().phase();
  return phase != "Succeeded" && phase != "Failed";
}

const v1::PodCondition* FindPodCondition(const v1::PodStatus& status, std::string_view type) {
  for (const v1::PodCondition& c : status.conditions()) {
    if (c.type() == type) return &c;
  }
  return nullptr;
}

bool IsReady(const v1::Pod& pod) {
  const v1::PodCondition* c = FindPodCondition(pod.status(), "Ready");
  return c != nullptr && c->status() == "True";
}

std::optional<absl::Time> ReadySince(const v1::Pod& pod) {
  const v1::PodCondition* c = FindPodCondition(pod.status(), "Ready");
  if (c == nullptr || c->last_transition_time().empty()) return std::nullopt;
  auto t = ParseTimestamp(c->last_transition_time());
  if (!t.ok()) return std::nullopt;
  return *t;
}

bool IsAvailable(const v1::Pod& pod, int32_t min_ready_seconds, absl::Time now) {
  if (!IsReady(pod)) return false;
  if (min_ready_seconds <= 0) return true;
  std::optional<absl::Time> since = ReadySince(pod);
  return since.has_value() && *since + absl::Seconds(min_ready_seconds) <= now;
}

absl::Duration UntilAvailable(const v1::Pod& pod, int32_t min_ready_seconds, absl::Time now) {
  if (!IsReady(pod) || min_ready_seconds <= 0) return absl::ZeroDuration();
  std::optional<absl::Time> since = ReadySince(pod);
  if (!since) return absl::ZeroDuration();
  return std::max(absl::ZeroDuration(), *since + absl::Seconds(min_ready_seconds) - now);
}

absl::Time CreationTime(const v1::ObjectMeta& meta) {
  auto t = ParseTimestamp(meta.creation_timestamp());
  return t.ok() ? *t : absl::InfinitePast();
}

Requests PodRequests(const v1::PodSpec& spec) {
  Requests sum;
  for (const v1::Container& c : spec.containers()) {
    Requests r = ContainerRequests(c);
    sum.milli_cpu += r.milli_cpu;
    sum.memory += r.memory;
  }
  for (const v1::Container& c : spec.init_containers()) {
    Requests r = ContainerRequests(c);
    sum.milli_cpu = std::max(sum.milli_cpu, r.milli_cpu);
    sum.memory = std::max(sum.memory, r.memory);
  }
  return sum;
}

std::string GenerateName(std::string_view base, absl::BitGen& rng) {
  // Kubernetes' rand.String alphabet: no vowels, no 0/1/3 that read as letters.
  static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  constexpr size_t kMaxBase = 63 - 6;  // room for "-xxxxx"
  std::string name(base.substr(0, std::min(base.size(), kMaxBase)));
  name += '-';
  for (int i = 0; i < 5; ++i) {
    name += kAlphabet[absl::Uniform<size_t>(rng, 0, kAlphabet.size())];
  }
  return name;
}

bool SetPodCondition(v1::PodStatus* status, std::string_view type, std::string_view value,
                     std::string_view reason, std::string_view message, absl::Time now) {
  v1::PodCondition* c = nullptr;
  for (v1::PodCondition& existing : *status->mutable_conditions()) {
    if (existing.type() == type) c = &existing;
  }
  if (c != nullptr && c->status() == value && c->reason() == reason && c->message() == message) {
    return false;
  }
  if (c == nullptr) {
    c = status->add_conditions();
    c->set_type(std::string(type));
  }
  if (c->status() != value) c->set_last_transition_time(FormatTimestamp(now));
  c->set_status(std::string(value));
  c->set_reason(std::string(reason));
  c->set_message(std::string(message));
  return true;
}

}  // namespace reef::reconcile
