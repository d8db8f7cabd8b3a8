#include "controller/reconcile/events.h"

#include "absl/strings/str_format.h"
#include "common/clock.h"

namespace reef::reconcile {
namespace {

// "<object>.<8 hex digits>": stable for one (object, type, reason, message), so that a
// repeat finds the Event to count up; a valid name whatever the object's name is.
std::string EventName(const v1::ObjectMeta& meta, const EventSpec& e) {
  uint32_t h = 2166136261u;
  for (std::string_view part : {std::string_view(meta.uid()), std::string_view(e.type),
                                std::string_view(e.reason), std::string_view(e.message)}) {
    for (unsigned char c : part) {
      h ^= c;
      h *= 16777619u;
    }
    h ^= 0xff;  // separator
    h *= 16777619u;
  }
  std::string base = meta.name().substr(0, 200);
  return absl::StrFormat("%s.%08x", base, h);
}

}  // namespace

absl::Status RecordEvent(store::Txn& txn, const v1::Object& involved, const EventSpec& event,
                         std::string_view component, absl::Time now) {
  const manifest::KindInfo* kind = manifest::KindOf(involved);
  const v1::ObjectMeta& meta = manifest::Meta(involved);
  std::string ns = meta.namespace_().empty() ? "default" : meta.namespace_();
  store::Key key{"Event", ns, EventName(meta, event)};
  std::string stamp = FormatTimestamp(now);
  absl::StatusOr<v1::Object> existing = txn.Get(key);
  if (existing.ok()) {
    v1::Event* e = existing->mutable_event();
    e->set_count(e->count() + 1);
    e->set_last_timestamp(stamp);
    return txn.Update(std::move(*existing)).status();
  }
  if (!absl::IsNotFound(existing.status())) return existing.status();
  v1::Object o;
  v1::Event* e = o.mutable_event();
  e->mutable_metadata()->set_name(key.name);
  e->mutable_metadata()->set_namespace_(ns);
  v1::ObjectReference* ref = e->mutable_involved_object();
  ref->set_api_version(std::string(kind->api_version));
  ref->set_kind(std::string(kind->kind));
  ref->set_namespace_(meta.namespace_());
  ref->set_name(meta.name());
  ref->set_uid(meta.uid());
  e->set_reason(event.reason);
  e->set_message(event.message);
  e->set_type(event.type);
  e->mutable_source()->set_component(std::string(component));
  e->set_first_timestamp(stamp);
  e->set_last_timestamp(stamp);
  e->set_count(1);
  return txn.Create(std::move(o)).status();
}

}  // namespace reef::reconcile
