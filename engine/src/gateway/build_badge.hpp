// The status badge of a branch (GET /badge/<owner>/<repo>/<branch>.svg), an SVG for a
// README: "build | passing" and the like, in the flat style READMEs are used to.
//
// Only fixed words ever reach the SVG (never a repository, branch or error text), so a badge
// carries nothing a job wrote and needs no escaping.
#pragma once

#include <string>
#include <string_view>

namespace kiln {

struct BuildBadge {
  std::string message;  // passing, failing, running, queued, cancelled, unknown
  std::string colour;   // #rrggbb
};

/// The badge of a job whose state has `status` ("" or anything unknown: "unknown").
BuildBadge BadgeForStatus(std::string_view status);

/// The SVG document of `badge`, labelled "build".
std::string RenderBadgeSvg(const BuildBadge& badge);

}  // namespace kiln
