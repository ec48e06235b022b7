using System.ClientModel;
using System.Net.Http.Headers;

namespace MediaActors.Providers.Transcription.OpenAi;

/// <summary>
/// A multipart/form-data request body for the SDK's protocol methods, streamed from the file (never held in memory).
/// System.ClientModel's own MultiPartFormContent is still marked experimental (SCME0004), so this wraps the stable
/// <see cref="MultipartFormDataContent"/>.
/// </summary>
internal sealed class MultipartUpload : BinaryContent
{
    private readonly MultipartFormDataContent _content = new();

    /// <summary>The Content-Type header value, with the boundary.</summary>
    public string ContentType => _content.Headers.ContentType!.ToString();

    public void AddText(string name, string value)
    {
        var part = new StringContent(value);
        part.Headers.ContentType = null;
        _content.Add(part, name);
    }

    public void AddFile(string name, string path, string mediaType)
    {
        var part = new StreamContent(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 81920, useAsync: true));
        part.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        _content.Add(part, name, Path.GetFileName(path));
    }

    public override bool TryComputeLength(out long length)
    {
        length = _content.Headers.ContentLength ?? -1;
        return length >= 0;
    }

    public override void WriteTo(Stream stream, CancellationToken cancellationToken) => _content.CopyTo(stream, null, cancellationToken);

    public override Task WriteToAsync(Stream stream, CancellationToken cancellationToken) => _content.CopyToAsync(stream, cancellationToken);

    public override void Dispose() => _content.Dispose();
}
