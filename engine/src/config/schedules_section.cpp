#include "config/schedules_section.hpp"

#include <algorithm>
#include <chrono>
#include <set>

#include "config/config_schema.hpp"
#include "config/config_value.hpp"
#include "schedule/cron_expression.hpp"

namespace kiln::config_schedules {

namespace {

using config_value::Input;

constexpr std::size_t kMaxNameLength = 64;
// A placeholder for the id while the job is checked: the real one is made per tick.
constexpr const char* kPlaceholderId = "schedule-check";

const std::vector<std::string_view>& Keys() {
  static const std::vector<std::string_view> keys = {"name", "cron", "job"};
  return keys;
}

class ScheduleReader {
 public:
  ScheduleReader(const std::string& file, std::vector<ScheduleConfig>& out) : file_(file), out_(out) {}

  std::vector<std::string> Read(const YAML::Node& value) {
    if (value.IsNull()) return std::move(problems_);
    if (!value.IsSequence()) {
      problems_.push_back("schedules: expected a list of { name, cron, job }, got " +
                          config_value::Describe(Input::FromNode(value)) + " " + AtLine(value));
      return std::move(problems_);
    }
    for (std::size_t i = 0; i < value.size(); ++i) ReadOne(value[i], i);
    return std::move(problems_);
  }

 private:
  std::string AtLine(const YAML::Node& node) const {
    return "(" + file_ + " line " + std::to_string(node.Mark().line + 1) + ")";
  }

  void ReadOne(const YAML::Node& item, std::size_t index) {
    // Until the name is known, the schedule is named by its position.
    std::string label = "schedules[" + std::to_string(index) + "]";
    if (!item.IsMap()) {
      problems_.push_back(label + ": expected a map { name, cron, job }, got " +
                          config_value::Describe(Input::FromNode(item)) + " " + AtLine(item));
      return;
    }
    bool complete = true;
    for (auto it = item.begin(); it != item.end(); ++it) {
      const YAML::Node key = it->first;  // a copy: `it->` yields a proxy that dies with the statement
      const std::string name = key.IsScalar() ? key.Scalar() : std::string("?");
      if (std::find(Keys().begin(), Keys().end(), name) == Keys().end()) {
        const std::string closest = config_schema::ClosestMatch(name, Keys());
        problems_.push_back(label + "." + name + ": unknown key " + AtLine(key) +
                            (closest.empty() ? "; the keys of a schedule are name, cron, job"
                                             : "; did you mean " + closest + "?"));
        complete = false;
      }
    }
    ScheduleConfig schedule;
    const YAML::Node name = item["name"];
    if (!name.IsDefined() || name.IsNull()) {
      problems_.push_back(label + ".name: missing " + AtLine(item));
      complete = false;
    } else {
      auto text = config_value::ReadString(Input::FromNode(name));
      if (!text || !IsScheduleName(text.value())) {
        problems_.push_back(label + ".name: must be 1 to 64 of a-z 0-9 _ - (starting with a letter or digit), got " +
                            config_value::Describe(Input::FromNode(name)) + " " + AtLine(name));
        complete = false;
      } else if (!names_.insert(text.value()).second) {
        problems_.push_back(label + ".name: '" + text.value() + "' names another schedule too " + AtLine(name));
        complete = false;
      } else {
        schedule.name = text.value();
        label = "schedules." + schedule.name;
      }
    }
    complete = ReadCron(item["cron"], item, label, schedule) && complete;
    complete = ReadJob(item["job"], item, label, schedule) && complete;
    if (complete) out_.push_back(std::move(schedule));
  }

  bool ReadCron(const YAML::Node& node, const YAML::Node& item, const std::string& label, ScheduleConfig& schedule) {
    if (!node.IsDefined() || node.IsNull()) {
      problems_.push_back(label + ".cron: missing " + AtLine(item) + "; e.g. cron: \"0 2 * * *\" (UTC)");
      return false;
    }
    auto text = config_value::ReadString(Input::FromNode(node));
    if (!text) {
      problems_.push_back(label + ".cron: " + text.error() + " " + AtLine(node));
      return false;
    }
    auto cron = CronExpression::Parse(text.value());
    if (!cron) {
      problems_.push_back(label + ".cron: " + cron.error() + " " + AtLine(node));
      return false;
    }
    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    if (!cron.value().NextAfter(now)) {
      problems_.push_back(label + ".cron: '" + text.value() + "' never fires (no such date in the next ten years) " +
                          AtLine(node));
      return false;
    }
    schedule.cron = text.value();
    return true;
  }

  bool ReadJob(const YAML::Node& node, const YAML::Node& item, const std::string& label, ScheduleConfig& schedule) {
    const std::string field = label + ".job";
    if (!node.IsDefined() || node.IsNull()) {
      problems_.push_back(field + ": missing " + AtLine(item) + "; a job needs at least repo.url and commit");
      return false;
    }
    if (!node.IsMap()) {
      problems_.push_back(field + ": expected a map (the fields of a job message but id), got " +
                          config_value::Describe(Input::FromNode(node)) + " " + AtLine(node));
      return false;
    }
    auto json = config_value::YamlToJson(node, field, file_);
    if (!json) {
      problems_.push_back(json.error());
      return false;
    }
    if (json.value().contains("id")) {
      problems_.push_back(field + ".id: a scheduled job's id is made at each tick from the schedule's name and the "
                          "tick time; leave it out " + AtLine(node["id"]));
      return false;
    }
    json.value()["id"] = kPlaceholderId;
    // File URLs are checked against build.allow_file_urls later (CheckJobs), once known.
    JobRules lenient;
    lenient.allow_file_urls = true;
    auto job = ParseJob(json.value().dump(), lenient);
    if (!job) {
      problems_.push_back(field + "." + job.error() + " " + AtLine(node));
      return false;
    }
    schedule.job = std::move(job).value();
    schedule.job.id.clear();
    return true;
  }

  const std::string& file_;
  std::vector<ScheduleConfig>& out_;
  std::vector<std::string> problems_;
  std::set<std::string> names_;
};

}  // namespace

bool IsScheduleName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '_' && c != '-'))) return false;
  }
  return true;
}

std::vector<std::string> Read(const YAML::Node& value, const std::string& file, std::vector<ScheduleConfig>& out) {
  return ScheduleReader(file, out).Read(value);
}

std::vector<std::string> CheckJobs(const Config& config) {
  std::vector<std::string> problems;
  JobRules rules;
  rules.allow_file_urls = config.build.allow_file_urls;
  for (const ScheduleConfig& schedule : config.schedules) {
    Job job = schedule.job;
    job.id = kPlaceholderId;
    if (auto valid = ValidateJob(job, rules); !valid) {
      problems.push_back("schedules." + schedule.name + ".job." + valid.error());
    }
  }
  return problems;
}

}  // namespace kiln::config_schedules
