using System.Net;

namespace SafeMem.Demo.Report;

/// <summary>Escaping for text and attribute values (the report is also well-formed XML, which its test relies on).</summary>
internal static class Html
{
    public static string Escape(string text) => WebUtility.HtmlEncode(text);
}
