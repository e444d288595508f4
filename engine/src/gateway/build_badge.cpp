#include "gateway/build_badge.hpp"

#include <fmt/format.h>

namespace kiln {

namespace {

constexpr std::string_view kLabel = "build";

// Widths of Verdana 11px, the badge font READMEs are used to, rounded up to whole pixels per
// character: the words are fixed, so a table per character would only move text by a pixel.
int TextWidth(std::string_view text) { return static_cast<int>(text.size()) * 7; }

}  // namespace

BuildBadge BadgeForStatus(std::string_view status) {
  if (status == "succeeded") return {"passing", "#3b8526"};
  if (status == "failed" || status == "dead") return {"failing", "#c4302b"};
  if (status == "running") return {"running", "#0a6bb3"};
  if (status == "queued") return {"queued", "#6b6b6b"};
  if (status == "cancelled") return {"cancelled", "#6b6b6b"};
  return {"unknown", "#6b6b6b"};
}

std::string RenderBadgeSvg(const BuildBadge& badge) {
  const int padding = 6;
  const int label_width = TextWidth(kLabel) + 2 * padding;
  const int message_width = TextWidth(badge.message) + 2 * padding;
  const int width = label_width + message_width;
  return fmt::format(
      R"(<svg xmlns="http://www.w3.org/2000/svg" width="{0}" height="20" role="img" aria-label="{2}: {3}">)"
      R"(<title>{2}: {3}</title>)"
      R"(<rect width="{1}" height="20" fill="#555"/>)"
      R"(<rect x="{1}" width="{4}" height="20" fill="{5}"/>)"
      R"(<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,Geneva,sans-serif" font-size="11">)"
      R"(<text x="{6}" y="14">{2}</text><text x="{7}" y="14">{3}</text></g></svg>)"
      "\n",
      width, label_width, kLabel, badge.message, message_width, badge.colour, label_width / 2,
      label_width + message_width / 2);
}

}  // namespace kiln
