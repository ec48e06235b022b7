using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MediaActors.Providers.Transcription.Local;

/// <summary>
/// A 16 kHz mono 16-bit PCM WAV file, the format of the audio extract. Samples are read by position,
/// so several threads can each read their own chunk of one open file without loading it whole.
/// </summary>
public sealed class PcmWav : IDisposable
{
    public const int SampleRate = 16000;

    private const ushort FormatPcm = 1;
    private const ushort FormatExtensible = 0xFFFE;
    private const int BytesPerSample = 2;

    private readonly SafeFileHandle _file;
    private readonly long _dataOffset;

    private PcmWav(SafeFileHandle file, long dataOffset, long sampleCount)
    {
        _file = file;
        _dataOffset = dataOffset;
        SampleCount = sampleCount;
    }

    public long SampleCount { get; }

    public double DurationSeconds => (double)SampleCount / SampleRate;

    /// <summary>Opens a WAV file and finds its samples; anything but 16 kHz mono s16le PCM is a permanent <see cref="StepException"/>.</summary>
    public static PcmWav Open(string path)
    {
        SafeFileHandle file;
        try
        {
            file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw StepException.Permanent($"The audio extract '{Path.GetFileName(path)}' does not exist.", e);
        }

        try
        {
            var (dataOffset, dataBytes) = ReadHeader(file, Path.GetFileName(path));
            return new PcmWav(file, dataOffset, dataBytes / BytesPerSample);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Reads up to destination.Length samples from <paramref name="firstSample"/>; returns how many were read.</summary>
    public int Read(long firstSample, Span<short> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstSample);
        var wanted = (int)Math.Clamp(SampleCount - firstSample, 0, destination.Length);
        var bytes = MemoryMarshal.AsBytes(destination[..wanted]);
        var offset = _dataOffset + firstSample * BytesPerSample;
        var done = 0;
        while (done < bytes.Length)
        {
            var read = RandomAccess.Read(_file, bytes[done..], offset + done);
            if (read == 0)
            {
                break;
            }
            done += read;
        }
        var samples = destination[..(done / BytesPerSample)];
        if (!BitConverter.IsLittleEndian)
        {
            // WAV samples are little-endian.
            BinaryPrimitives.ReverseEndianness(samples, samples);
        }
        return samples.Length;
    }

    public void Dispose() => _file.Dispose();

    private static (long DataOffset, long DataBytes) ReadHeader(SafeFileHandle file, string name)
    {
        var length = RandomAccess.GetLength(file);
        Span<byte> riff = stackalloc byte[12];
        if (RandomAccess.Read(file, riff, 0) < riff.Length || !riff[..4].SequenceEqual("RIFF"u8) || !riff[8..12].SequenceEqual("WAVE"u8))
        {
            throw StepException.Permanent($"'{name}' is not a WAV file (no RIFF/WAVE header).");
        }

        Span<byte> chunkHeader = stackalloc byte[8];
        Span<byte> fmt = stackalloc byte[40];
        var fmtLength = 0;
        long position = 12;
        while (position + chunkHeader.Length <= length)
        {
            RandomAccess.Read(file, chunkHeader, position);
            var size = BinaryPrimitives.ReadUInt32LittleEndian(chunkHeader[4..]);
            var body = position + chunkHeader.Length;
            if (chunkHeader[..4].SequenceEqual("fmt "u8))
            {
                fmtLength = RandomAccess.Read(file, fmt[..(int)Math.Min(size, (uint)fmt.Length)], body);
            }
            else if (chunkHeader[..4].SequenceEqual("data"u8))
            {
                if (fmtLength < 16)
                {
                    throw StepException.Permanent($"'{name}' is not a valid WAV file: no format chunk before the audio data.");
                }
                CheckFormat(fmt[..fmtLength], name);
                // Writers that stream (ffmpeg to a pipe) leave the size as 0 or 0xFFFFFFFF: the data then runs to the end of the file.
                var available = length - body;
                var dataBytes = size == 0 || size == uint.MaxValue || size > available ? available : size;
                return (body, dataBytes - dataBytes % BytesPerSample);
            }
            // Chunks are padded to an even size.
            position = body + size + (size & 1);
        }
        throw StepException.Permanent($"'{name}' is not a valid WAV file: it has no audio data chunk.");
    }

    private static void CheckFormat(ReadOnlySpan<byte> fmt, string name)
    {
        var format = BinaryPrimitives.ReadUInt16LittleEndian(fmt);
        var channels = BinaryPrimitives.ReadUInt16LittleEndian(fmt[2..]);
        var rate = BinaryPrimitives.ReadUInt32LittleEndian(fmt[4..]);
        var bits = BinaryPrimitives.ReadUInt16LittleEndian(fmt[14..]);
        // WAVE_FORMAT_EXTENSIBLE carries the real format in the first two bytes of its sub-format GUID.
        var pcm = format == FormatPcm || (format == FormatExtensible && fmt.Length >= 26 && BinaryPrimitives.ReadUInt16LittleEndian(fmt[24..]) == FormatPcm);
        if (!pcm || channels != 1 || rate != SampleRate || bits != 16)
        {
            throw StepException.Permanent(
                $"The audio extract must be 16 kHz mono 16-bit PCM WAV, but '{name}' is {(pcm ? "PCM" : $"format 0x{format:X4}")}, " +
                $"{rate} Hz, {channels} channel(s), {bits}-bit.");
        }
    }
}
