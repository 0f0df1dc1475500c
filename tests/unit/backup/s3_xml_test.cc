#include "backup/s3_xml.h"

#include <gtest/gtest.h>

namespace activekv::backup::xml {
namespace {

constexpr char kListPage[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bk</Name><Prefix>pre/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <Contents><Key>pre/a&amp;b.txt</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified>
    <ETag>&quot;9a0364b9e99bb480dd25e1f0284c8555&quot;</ETag><Size>7</Size></Contents>
  <Contents><Key>pre/c&#x2F;d</Key><Size>12345678901</Size></Contents>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
</ListBucketResult>)";

TEST(S3XmlTest, ListPageFields) {
  EXPECT_EQ(FirstText(kListPage, "IsTruncated"), "true");
  EXPECT_EQ(FirstText(kListPage, "NextContinuationToken"),
            "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  auto contents = AllElements(kListPage, "Contents");
  ASSERT_EQ(contents.size(), 2u);
  EXPECT_EQ(FirstText(contents[0], "Key"), "pre/a&b.txt");
  EXPECT_EQ(FirstText(contents[0], "Size"), "7");
  EXPECT_EQ(FirstText(contents[0], "ETag"), "\"9a0364b9e99bb480dd25e1f0284c8555\"");
  EXPECT_EQ(FirstText(contents[1], "Key"), "pre/c/d");
  EXPECT_EQ(FirstText(contents[1], "Size"), "12345678901");
}

TEST(S3XmlTest, TagNamesMatchExactly) {
  // <Key> must not match <KeyCount>, nor <Size> match <SizeLimit>.
  EXPECT_EQ(FirstText("<KeyCount>3</KeyCount><Key>k</Key>", "Key"), "k");
  EXPECT_EQ(FirstText("<SizeLimit>1</SizeLimit>", "Size"), std::nullopt);
}

TEST(S3XmlTest, AttributesSelfClosingMissingAndUnterminated) {
  EXPECT_EQ(FirstText(R"(<UploadId a="1">abc</UploadId>)", "UploadId"), "abc");
  EXPECT_EQ(FirstText("<Prefix/>", "Prefix"), "");
  EXPECT_EQ(FirstText("<Other>x</Other>", "UploadId"), std::nullopt);
  EXPECT_EQ(FirstText("<UploadId>abc", "UploadId"), std::nullopt);
  EXPECT_TRUE(AllElements("<A>1</A><A>2", "A").size() == 1);
}

TEST(S3XmlTest, ErrorDocument) {
  constexpr char kError[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>
<BucketName>nope</BucketName></Error>)";
  EXPECT_EQ(FirstText(kError, "Code"), "NoSuchBucket");
  EXPECT_EQ(FirstText(kError, "Message"), "The specified bucket does not exist");
}

TEST(S3XmlTest, EntitiesAndEscape) {
  EXPECT_EQ(DecodeEntities("a&lt;b&gt;c&amp;d&quot;e&apos;f&#65;&#x42;&#xe9;"),
            "a<b>c&d\"e'fAB\xc3\xa9");
  // Unknown and malformed entities are kept as written.
  EXPECT_EQ(DecodeEntities("&bogus; & &#xZZ; &#;"), "&bogus; & &#xZZ; &#;");
  EXPECT_EQ(Escape("\"etag\" <&>"), "\"etag\" &lt;&amp;&gt;");
  EXPECT_EQ(DecodeEntities(Escape("x<&>y")), "x<&>y");
}

}  // namespace
}  // namespace activekv::backup::xml
