#include "agent/cluster/log_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/runtime/cri_log.h"
#include "common/files.h"

namespace reef::agent {
namespace {

// Everything from the current position to the end of the file.
absl::StatusOr<std::string> ReadToEnd(int fd) {
  std::string data;
  char buf[64 * 1024];
  while (true) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read log", errno);
    }
    if (n == 0) return data;
    data.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

absl::Status CriLogReader::Open() {
  int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError("the container has written no log yet");
    return ErrnoStatus(reef::StrCat("open ", path_), errno);
  }
  fd_ = UniqueFd(fd);
  struct stat st = {};
  fstat(fd, &st);
  inode_ = st.st_ino;
  return absl::OkStatus();
}

void CriLogReader::Decode(std::string_view data, std::string* out) {
  carry_.append(data);
  size_t start = 0;
  for (size_t nl; (nl = carry_.find('\n', start)) != std::string::npos; start = nl + 1) {
    auto record = runtime::ParseCriRecord(std::string_view(carry_).substr(start, nl - start));
    if (!record.ok()) continue;  // not a record (a torn write after a crash): skipped
    out->append(record->content);
    if (!record->partial) out->push_back('\n');
  }
  carry_.erase(0, start);
}

absl::StatusOr<std::string> CriLogReader::ReadInitial(int64_t tail_lines) {
  RETURN_IF_ERROR(Open());
  ASSIGN_OR_RETURN(std::string data, ReadToEnd(fd_.get()));
  std::string content;
  Decode(data, &content);
  if (tail_lines < 0) return content;
  // The start of the last tail_lines lines (each ends with '\n').
  size_t cut = content.size();
  for (int64_t n = 0; cut > 0 && n < tail_lines; ++n) {
    size_t nl = cut >= 2 ? content.rfind('\n', cut - 2) : std::string::npos;
    cut = nl == std::string::npos ? 0 : nl + 1;
  }
  return content.substr(cut);
}

absl::StatusOr<std::string> CriLogReader::ReadNew() {
  std::string content;
  if (!fd_.valid()) {
    absl::Status opened = Open();
    if (absl::IsNotFound(opened)) return content;
    RETURN_IF_ERROR(opened);
  }
  ASSIGN_OR_RETURN(std::string data, ReadToEnd(fd_.get()));
  Decode(data, &content);
  struct stat st = {};
  if (stat(path_.c_str(), &st) == 0 && st.st_ino != inode_) {
    // Rotated: the old file is complete (read above); go on with the new one.
    carry_.clear();
    RETURN_IF_ERROR(Open());
    ASSIGN_OR_RETURN(data, ReadToEnd(fd_.get()));
    Decode(data, &content);
  }
  return content;
}

}  // namespace reef::agent
