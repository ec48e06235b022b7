using Azure;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace MediaActors.Providers.Storage;

/// <summary>
/// A write-only stream that appends to an append blob in blocks of up to 4 MiB. <see cref="Stream.Length"/> counts the
/// blob's bytes and the ones buffered here. Each block is appended on the condition that the blob still has the length
/// this stream expects, so a block the SDK sent twice (a retry after a lost answer) is never stored twice.
/// </summary>
public sealed class AppendBlobStream : Stream
{
    /// <summary>The largest block an append blob takes in one call (service versions before 2022).</summary>
    public const int BlockBytes = 4 * 1024 * 1024;

    private readonly AppendBlobClient _blob;
    private readonly byte[] _buffer = new byte[BlockBytes];
    private long _appended;
    private int _buffered;

    internal AppendBlobStream(AppendBlobClient blob, long length)
    {
        _blob = blob;
        _appended = length;
    }

    /// <summary>Bytes stored in the blob (not counting the buffered ones).</summary>
    public long Appended => _appended;

    public override bool CanRead => false;

    public override bool CanSeek => true;

    public override bool CanWrite => true;

    public override long Length => _appended + _buffered;

    public override long Position
    {
        get => Length;
        set => Seek(value, SeekOrigin.Begin);
    }

    /// <summary>Only "stay at the end" is possible: the stream appends.</summary>
    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current or SeekOrigin.End => Length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        return target == Length ? target : throw new NotSupportedException("An append blob stream can only be written at its end.");
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (buffer.Length > 0)
        {
            var count = Math.Min(buffer.Length, _buffer.Length - _buffered);
            buffer[..count].CopyTo(_buffer.AsMemory(_buffered));
            _buffered += count;
            buffer = buffer[count..];
            if (_buffered == _buffer.Length)
            {
                await AppendBufferedAsync(cancellationToken);
            }
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) => AppendBufferedAsync(cancellationToken);

    private async Task AppendBufferedAsync(CancellationToken cancellationToken)
    {
        if (_buffered == 0)
        {
            return;
        }

        using var block = new MemoryStream(_buffer, 0, _buffered, writable: false);
        try
        {
            await _blob.AppendBlockAsync(block, new AppendBlobAppendBlockOptions { Conditions = new AppendBlobRequestConditions { IfAppendPositionEqual = _appended } },
                cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 412)
        {
            // The condition failed: either an earlier try of this block was stored (the answer was lost), or someone else appended.
            var length = (await _blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value.ContentLength;
            if (length != _appended + _buffered)
            {
                throw new IOException($"The append blob has {length} bytes where {_appended} or {_appended + _buffered} were expected: another writer appended to it.", ex);
            }
        }

        _appended += _buffered;
        _buffered = 0;
    }

    public override void Flush() => throw new NotSupportedException("Use FlushAsync.");

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("Use WriteAsync.");
}
