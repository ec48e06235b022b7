using System.Buffers.Binary;
using System.Text;

namespace MediaActors.Providers.Tests.Transcription.Local;

/// <summary>Builds WAV files byte by byte, to test header parsing on layouts real writers produce.</summary>
public static class TestWav
{
    public static byte[] Build(
        ReadOnlySpan<short> samples,
        int sampleRate = 16000,
        int channels = 1,
        int bitsPerSample = 16,
        bool extensible = false,
        byte[]? chunkBeforeData = null,
        uint? declaredDataSize = null)
    {
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream, Encoding.ASCII);
        writer.Write("RIFF"u8);
        writer.Write(0u); // patched below
        writer.Write("WAVE"u8);

        writer.Write("fmt "u8);
        writer.Write(extensible ? 40u : 16u);
        writer.Write((ushort)(extensible ? 0xFFFE : 1));
        writer.Write((ushort)channels);
        writer.Write((uint)sampleRate);
        writer.Write((uint)(sampleRate * channels * bitsPerSample / 8));
        writer.Write((ushort)(channels * bitsPerSample / 8));
        writer.Write((ushort)bitsPerSample);
        if (extensible)
        {
            writer.Write((ushort)22); // cbSize
            writer.Write((ushort)bitsPerSample); // valid bits
            writer.Write(0x4u); // channel mask: front centre
            // KSDATAFORMAT_SUBTYPE_PCM: 00000001-0000-0010-8000-00aa00389b71
            writer.Write(new Guid("00000001-0000-0010-8000-00aa00389b71").ToByteArray());
        }

        if (chunkBeforeData is not null)
        {
            writer.Write(chunkBeforeData);
        }

        writer.Write("data"u8);
        writer.Write(declaredDataSize ?? (uint)(samples.Length * 2));
        foreach (var sample in samples)
        {
            writer.Write(sample);
        }
        writer.Flush();
        var bytes = stream.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), (uint)(bytes.Length - 8));
        return bytes;
    }

    /// <summary>A LIST/INFO chunk with an odd size, so the reader must skip its pad byte.</summary>
    public static byte[] OddListChunk()
    {
        var body = "INFOISFT\u0005\0\0\0Lavf\0"u8.ToArray(); // 17 bytes
        var chunk = new byte[8 + body.Length + 1];
        "LIST"u8.CopyTo(chunk);
        BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(4), (uint)body.Length);
        body.CopyTo(chunk, 8);
        return chunk;
    }
}
