#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace activekv::backup::xml {

// A minimal extractor for the few fields of S3's XML responses we need (UploadId, ETag, Key,
// Size, IsTruncated, NextContinuationToken, Error Code / Message). Not a general XML parser: no
// namespaces-prefixed tags, no CDATA, no comments inside the elements read. Elements are matched
// by exact name ("<Key>" never matches "<KeyCount>"); attributes on the opening tag are allowed.

// The text of the first <tag>...</tag> in `xml`, entity-decoded; "" for <tag/>; nullopt when
// absent or unterminated.
std::optional<std::string> FirstText(std::string_view xml, std::string_view tag);

// The raw (undecoded) inner XML of every top-level occurrence of <tag>...</tag>, in order. The
// views point into `xml`.
std::vector<std::string_view> AllElements(std::string_view xml, std::string_view tag);

// Decodes &amp; &lt; &gt; &quot; &apos; and numeric references (&#NN; &#xNN;, as UTF-8).
// An unknown or malformed entity is kept as written.
std::string DecodeEntities(std::string_view text);

// Escapes & < > for use in element text (quotes are legal there and kept: an ETag is sent as
// <ETag>"..."</ETag>, as the AWS SDKs do).
std::string Escape(std::string_view text);

}  // namespace activekv::backup::xml
