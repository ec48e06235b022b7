using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Xml.Linq;
using MediaActors.ServiceDefaults.Database;
using MediaActors.ServiceDefaults.DataProtection;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace MediaActors.ServiceDefaults.Tests.DataProtection;

public sealed class DataProtectionTests
{
    private const string RefreshToken = "1//0gRefreshToken-plaintext-Zx9QwErTy";

    [Fact]
    public async Task Two_hosts_started_together_share_one_key_and_read_each_others_secrets()
    {
        await using var hosts = await DataProtectionHosts.CreateAsync();
        var started = await Task.WhenAll(Task.Run(() => hosts.StartAsync("host-a")), Task.Run(() => hosts.StartAsync("host-b")));
        var (a, b) = (Secrets(started[0]), Secrets(started[1]));

        var protectedByBoth = await Task.WhenAll(Task.Run(() => a.Protect(RefreshToken)), Task.Run(() => b.Protect(RefreshToken + "-b")));

        Assert.Equal(RefreshToken, b.Unprotect(protectedByBoth[0]));
        Assert.Equal(RefreshToken + "-b", a.Unprotect(protectedByBoth[1]));
        Assert.DoesNotContain(RefreshToken, protectedByBoth[0], StringComparison.Ordinal);
        Assert.DoesNotContain("Zx9QwErTy", protectedByBoth[0], StringComparison.Ordinal);
        Assert.NotEqual(protectedByBoth[0], a.Protect(RefreshToken)); // randomized: equal secrets are not recognizable

        var rows = await hosts.KeyRowsAsync();
        var key = Assert.Single(rows);
        Assert.StartsWith("<key ", key, StringComparison.Ordinal);
        Assert.Equal(1L, await hosts.ScalarAsync<long>("SELECT count(*) FROM data_protection_keys WHERE friendly_name LIKE 'key-%'"));
        Assert.DoesNotContain(RefreshToken, key, StringComparison.Ordinal);
        // Without a certificate the key material is stored unencrypted (documented on AddMediaActorsDataProtection).
        Assert.Contains("<masterKey", key, StringComparison.Ordinal);
        Assert.Empty(hosts.Logs.Errors);
    }

    [Fact]
    public async Task A_host_started_later_reads_secrets_protected_before_and_adds_no_key()
    {
        await using var hosts = await DataProtectionHosts.CreateAsync();
        var first = await hosts.StartAsync("first");
        var second = await hosts.StartAsync("second", dataProtectionFirst: false);
        var fromFirst = Secrets(first).Protect(RefreshToken);
        var fromSecond = Secrets(second).Protect("webhook-secret");
        var empty = Secrets(first).Protect("");
        await hosts.StopAsync(first);
        await hosts.StopAsync(second);

        var later = await hosts.StartAsync("later");
        Assert.Equal(RefreshToken, Secrets(later).Unprotect(fromFirst));
        Assert.Equal("webhook-secret", Secrets(later).Unprotect(fromSecond));
        Assert.Equal("", Secrets(later).Unprotect(empty));
        Assert.Equal(RefreshToken, Secrets(later).Unprotect(Secrets(later).Protect(RefreshToken)));
        Assert.Single(await hosts.KeyRowsAsync());
        Assert.Equal(1L, await hosts.ScalarAsync<long>("SELECT count(*) FROM public.schema_migrations WHERE version = '0500_data_protection'"));
        Assert.Empty(hosts.Logs.Errors);
    }

    [Fact]
    public async Task Altered_or_foreign_protected_text_fails_with_a_clear_exception()
    {
        await using var hosts = await DataProtectionHosts.CreateAsync();
        var host = await hosts.StartAsync("host");
        var secrets = Secrets(host);
        var good = secrets.Protect(RefreshToken);

        var middle = good.Length / 2;
        var flipped = good[..middle] + (good[middle] == 'A' ? 'B' : 'A') + good[(middle + 1)..];
        var otherPurpose = host.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("MediaActors.Other").Protect(RefreshToken);
        var otherKeyRing = new EphemeralDataProtectionProvider().CreateProtector(SecretProtector.Purpose).Protect(RefreshToken);

        foreach (var bad in new[] { flipped, good[..^4], good + "AAAA", "not a protected secret!", "", otherPurpose, otherKeyRing })
        {
            var error = Assert.Throws<SecretUnprotectException>(() => secrets.Unprotect(bad));
            Assert.IsAssignableFrom<CryptographicException>(error);
            Assert.StartsWith("The protected secret could not be decrypted", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(RefreshToken, error.Message, StringComparison.Ordinal);
            Assert.NotNull(error.InnerException);
        }

        Assert.Throws<ArgumentNullException>(() => secrets.Protect(null!));
        Assert.Throws<ArgumentNullException>(() => secrets.Unprotect(null!));
        Assert.Equal(RefreshToken, secrets.Unprotect(good));
    }

    [Fact]
    public async Task Repository_stores_each_element_once_and_reads_them_all()
    {
        await using var hosts = await DataProtectionHosts.CreateAsync();
        await using var dataSource = NpgsqlDataSource.Create(hosts.ConnectionString);
        await Migrate(dataSource);
        using var repository = new PostgresXmlRepository(dataSource);

        Assert.Empty(repository.GetAllElements());
        repository.StoreElement(Key(Guid.NewGuid(), "first"), "key-1");
        repository.StoreElement(Key(Guid.NewGuid(), "second"), "key-1"); // same friendly name: kept as it was
        repository.StoreElement(new XElement("revocation", new XAttribute("version", 1)), "revocation-1");

        var elements = repository.GetAllElements();
        Assert.Equal(2, elements.Count);
        Assert.Equal("first", elements.First().Element("marker")!.Value);
        Assert.Equal("revocation", elements.Last().Name.LocalName);
    }

    [Fact]
    public async Task A_host_that_finds_no_usable_key_makes_the_others_wait_until_it_stored_one()
    {
        await using var hosts = await DataProtectionHosts.CreateAsync();
        await using var dataSource = NpgsqlDataSource.Create(hosts.ConnectionString);
        await Migrate(dataSource);
        using var creator = new PostgresXmlRepository(dataSource);
        using var other = new PostgresXmlRepository(dataSource);

        Assert.Empty(creator.GetAllElements()); // no key: holds the creation lock
        var waiting = Task.Run(other.GetAllElements);
        await Task.Delay(500);
        Assert.False(waiting.IsCompleted, "the other host read the key ring while the first was creating a key");

        creator.StoreElement(Key(Guid.NewGuid(), "created"), "key-created");
        var seen = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("created", Assert.Single(seen).Element("marker")!.Value);

        // With a usable key nobody waits.
        Assert.Single(creator.GetAllElements());
        Assert.Single(await Task.Run(other.GetAllElements).WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task With_a_certificate_keys_are_encrypted_at_rest_and_shared()
    {
        var directory = Directory.CreateTempSubdirectory("ma-dp-cert-");
        try
        {
            var pfx = Path.Combine(directory.FullName, "keys.pfx");
            using (var rsa = RSA.Create(2048))
            {
                var request = new CertificateRequest("CN=MediaActors data protection test", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
                using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
                await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, "test-password"));
            }

            var settings = new Dictionary<string, string?>
            {
                ["DataProtection:Certificate:Path"] = pfx,
                ["DataProtection:Certificate:Password"] = "test-password",
            };
            await using var hosts = await DataProtectionHosts.CreateAsync();
            var started = await Task.WhenAll(Task.Run(() => hosts.StartAsync("a", settings)), Task.Run(() => hosts.StartAsync("b", settings)));

            var protectedText = Secrets(started[0]).Protect(RefreshToken);
            Assert.Equal(RefreshToken, Secrets(started[1]).Unprotect(protectedText));
            var key = Assert.Single(await hosts.KeyRowsAsync());
            Assert.Contains("EncryptedData", key, StringComparison.Ordinal);
            Assert.DoesNotContain("<masterKey", key, StringComparison.Ordinal);
            Assert.Empty(hosts.Logs.Errors);

            var wrongPassword = new Dictionary<string, string?>(settings) { ["DataProtection:Certificate:Password"] = "Wr0ngPa55" };
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => hosts.StartAsync("c", wrongPassword));
            Assert.Contains("DataProtection:Certificate:Path", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("Wr0ngPa55", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static SecretProtector Secrets(IHost host) => host.Services.GetRequiredService<SecretProtector>();

    private static Task Migrate(NpgsqlDataSource dataSource) =>
        new SchemaMigrator(dataSource, [new MigrationAssembly(typeof(PostgresXmlRepository).Assembly)], NullLogger<SchemaMigrator>.Instance).MigrateAsync();

    private static XElement Key(Guid id, string marker) =>
        new("key",
            new XAttribute("id", id),
            new XAttribute("version", 1),
            new XElement("creationDate", DateTimeOffset.UtcNow.ToString("O")),
            new XElement("activationDate", DateTimeOffset.UtcNow.AddMinutes(-1).ToString("O")),
            new XElement("expirationDate", DateTimeOffset.UtcNow.AddDays(90).ToString("O")),
            new XElement("marker", marker));
}
