using MediaActors.Providers.Storage;
using Microsoft.Extensions.Options;

namespace MediaActors.Api.Uploads;

/// <summary>
/// At start, lets the web app's pages PUT blocks straight to blob storage: browsers send a CORS preflight to the
/// storage origin, which answers only if the blob service has a rule for the page's origin
/// (<see cref="UploadOptions.BrowserOrigins"/>). Retried while storage is not reachable yet; a failure is logged and
/// leaves every other upload path (curl, SDKs) working.
/// </summary>
public sealed class BrowserUploadCors(BlobStore blobs, IOptions<UploadOptions> options, ILogger<BrowserUploadCors> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.ConfigureStorageCors || options.Value.BrowserOrigins.Length == 0)
        {
            return;
        }

        for (var attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await blobs.AllowBrowserUploadsAsync(options.Value.BrowserOrigins, stoppingToken);
                logger.LogInformation("Blob storage accepts browser uploads from {Origins}", string.Join(", ", options.Value.BrowserOrigins));
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                if (attempt == 10)
                {
                    logger.LogWarning("Could not add the CORS rule for browser uploads to blob storage ({Error}); the web app's drag-and-drop upload will be refused by storage until it is set",
                        ex.GetType().Name + ": " + ex.Message.Split('\n')[0]);
                    return;
                }

                await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, attempt * 2)), stoppingToken);
            }
        }
    }
}
