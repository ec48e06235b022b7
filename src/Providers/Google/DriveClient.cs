using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace MediaActors.Providers.Google;

/// <summary>A Drive file's metadata (size and MD5 exist only for binary files).</summary>
public sealed record DriveFile(string Id, string Name, string MimeType, long? Size, string? Md5Checksum, DateTimeOffset? ModifiedTime);

/// <summary>One page of a folder listing; <see cref="NextPageToken"/> is null on the last page.</summary>
public sealed record DriveFilePage(IReadOnlyList<DriveFile> Files, string? NextPageToken);

/// <summary>
/// The Drive API v3 calls MediaActors makes, over HttpClient: files.get (metadata), alt=media downloads in Range requests
/// (resumed from the bytes already written after a dropped connection) and files.list of a folder's videos.
/// </summary>
public sealed class DriveClient(HttpClient http, IOptions<GoogleOptions> options)
{
    private const string FileFields = "id,name,mimeType,size,md5Checksum,modifiedTime";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly GoogleOptions _options = options.Value;

    public async Task<DriveFile> GetFileAsync(string accessToken, string fileId, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(accessToken, HttpMethod.Get, $"files/{Uri.EscapeDataString(fileId)}?fields={FileFields}&supportsAllDrives=true",
            null, "files.get", cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw await GoogleApiFailure.FromResponseAsync(response, "files.get", cancellationToken);
        }

        return ToFile(await response.Content.ReadFromJsonAsync<FileJson>(Json, cancellationToken))
            ?? throw new GoogleApiException(GoogleFailureKind.Transient, 200, null, "Google files.get failed: unreadable answer.");
    }

    /// <summary>The video files directly in <paramref name="folderId"/> (not trashed), one page at a time.</summary>
    public async Task<DriveFilePage> ListVideosAsync(string accessToken, string folderId, string? pageToken, int pageSize, CancellationToken cancellationToken)
    {
        // Drive's query language quotes with single quotes and escapes them (and backslashes) with a backslash.
        var folder = folderId.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal);
        var query = $"'{folder}' in parents and mimeType contains 'video/' and trashed=false";
        var path = $"files?q={Uri.EscapeDataString(query)}&fields={Uri.EscapeDataString($"nextPageToken,files({FileFields})")}" +
            $"&pageSize={Math.Clamp(pageSize, 1, 1000)}&supportsAllDrives=true&includeItemsFromAllDrives=true" +
            (pageToken is null ? "" : $"&pageToken={Uri.EscapeDataString(pageToken)}");
        using var response = await SendAsync(accessToken, HttpMethod.Get, path, null, "files.list", cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw await GoogleApiFailure.FromResponseAsync(response, "files.list", cancellationToken);
        }

        var page = await response.Content.ReadFromJsonAsync<PageJson>(Json, cancellationToken);
        return new DriveFilePage((page?.Files ?? []).Select(ToFile).OfType<DriveFile>().ToList(), string.IsNullOrEmpty(page?.NextPageToken) ? null : page.NextPageToken);
    }

    /// <summary>
    /// Appends the file's bytes from <c>destination.Length</c> to <paramref name="size"/> to <paramref name="destination"/>
    /// in Range requests of <see cref="GoogleOptions.DownloadChunkBytes"/>; a dropped connection resumes from what was
    /// written. Reports the bytes written so far.
    /// </summary>
    public async Task DownloadAsync(string accessToken, string fileId, Stream destination, long size, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var chunk = Math.Max(64 * 1024, _options.DownloadChunkBytes);
        var interruptions = 0;
        destination.Seek(0, SeekOrigin.End);
        while (destination.Length < size)
        {
            var from = destination.Length;
            var to = Math.Min(size, from + chunk) - 1;
            var before = from;
            try
            {
                using var response = await SendAsync(accessToken, HttpMethod.Get, $"files/{Uri.EscapeDataString(fileId)}?alt=media&supportsAllDrives=true",
                    new RangeHeaderValue(from, to), "download", cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK && from > 0)
                {
                    throw new GoogleApiException(GoogleFailureKind.Transient, 200, null, "Google download failed: the server ignored the Range request.");
                }

                if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.PartialContent))
                {
                    throw await GoogleApiFailure.FromResponseAsync(response, "download", cancellationToken);
                }

                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                await body.CopyToAsync(destination, cancellationToken);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is HttpRequestException or IOException or GoogleApiException { Status: 0 })
            {
                // Whatever arrived before the drop is written; the next request starts after it.
                if (destination.Length == before && ++interruptions > _options.MaxInterruptionsInARow)
                {
                    throw ex as GoogleApiException ?? GoogleApiFailure.Unreachable(ex, "download");
                }
            }

            if (destination.Length > before)
            {
                interruptions = 0;
            }

            if (destination.Length > size)
            {
                throw new GoogleApiException(GoogleFailureKind.Transient, 0, null,
                    $"Google download failed: got {destination.Length.ToString(CultureInfo.InvariantCulture)} bytes of a {size.ToString(CultureInfo.InvariantCulture)}-byte file.");
            }

            progress?.Report(destination.Length);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(string accessToken, HttpMethod method, string path, RangeHeaderValue? range, string operation,
        CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(_options.DriveApi, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        request.Headers.Range = range;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(Math.Max(1, _options.TimeoutSeconds)));
        try
        {
            return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is HttpRequestException or IOException or OperationCanceledException)
        {
            throw GoogleApiFailure.Unreachable(ex, operation);
        }
    }

    private static DriveFile? ToFile(FileJson? file) =>
        file?.Id is not { Length: > 0 } id
            ? null
            : new DriveFile(id, file.Name ?? id, file.MimeType ?? "application/octet-stream",
                long.TryParse(file.Size, NumberStyles.None, CultureInfo.InvariantCulture, out var size) ? size : null, file.Md5Checksum, file.ModifiedTime);

    // Drive sends int64 values (size) as strings.
    private sealed record FileJson(string? Id, string? Name, string? MimeType, string? Size, string? Md5Checksum, DateTimeOffset? ModifiedTime);

    private sealed record PageJson(IReadOnlyList<FileJson>? Files, string? NextPageToken);
}
