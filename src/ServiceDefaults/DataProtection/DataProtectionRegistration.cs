using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MediaActors.ServiceDefaults.Database;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace MediaActors.ServiceDefaults.DataProtection;

/// <summary>ASP.NET Core Data Protection for every MediaActors host, with the key ring in PostgreSQL.</summary>
public static class DataProtectionRegistration
{
    /// <summary>Shared by every host: protected data is readable only by hosts with the same application name.</summary>
    public const string ApplicationName = "MediaActors";

    /// <summary>
    /// Registers Data Protection (application name "MediaActors") with its key ring in the table
    /// <c>data_protection_keys</c> of the database (<see cref="PostgresXmlRepository"/>, migration
    /// 0500_data_protection), and <see cref="SecretProtector"/> for secrets stored in the database.
    /// Needs the <see cref="NpgsqlDataSource"/> of <c>AddMediaActorsDatabase</c>, before or after this call.
    /// </summary>
    /// <remarks>
    /// <para>
    /// <b>The keys are stored unencrypted at rest</b> unless <c>DataProtection:Certificate:Path</c> names a PKCS#12
    /// (.pfx) file with a private key (password in <c>DataProtection:Certificate:Password</c>): then each new key is
    /// encrypted to that certificate before it is written (an <c>IXmlEncryptor</c>). Without it, whoever reads the
    /// table (or a backup) can decrypt every secret. With it, every host must have the same certificate: a host
    /// without it cannot read the keys and would create unencrypted keys of its own. Keys written before the
    /// certificate was configured stay unencrypted (they remain usable; they retire with rotation).
    /// </para>
    /// <para>Pass the configuration to enable the certificate; without configuration the keys are stored unencrypted.</para>
    /// </remarks>
    public static IServiceCollection AddMediaActorsDataProtection(this IServiceCollection services, IConfiguration? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(s => s.ServiceType == typeof(SecretProtector)))
        {
            return services;
        }

        services.AddSingleton(new MigrationAssembly(typeof(DataProtectionRegistration).Assembly));
        services.AddSingleton(sp => new PostgresXmlRepository(
            sp.GetRequiredService<NpgsqlDataSource>(),
            sp.GetService<ILogger<PostgresXmlRepository>>(),
            () => sp.GetService<SchemaMigrator>()));

        var builder = services.AddDataProtection().SetApplicationName(ApplicationName);

        // After AddDataProtection, so it runs after the framework's own KeyManagementOptions setup.
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>, UsePostgresKeyRepository>();

        if (LoadCertificate(configuration) is { } certificate)
        {
            builder.ProtectKeysWithCertificate(certificate).UnprotectKeysWithAnyCertificate(certificate);
        }

        services.AddSingleton<SecretProtector>();
        return services;
    }

    private static X509Certificate2? LoadCertificate(IConfiguration? configuration)
    {
        var path = configuration?["DataProtection:Certificate:Path"];
        if (string.IsNullOrWhiteSpace(path))
        {
            return null;
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(path, configuration?["DataProtection:Certificate:Password"]);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(
                $"DataProtection:Certificate:Path: could not load the PKCS#12 certificate '{path}' ({ex.GetType().Name}: {ex.Message}). Check the file and DataProtection:Certificate:Password.",
                ex);
        }

        if (!certificate.HasPrivateKey)
        {
            throw new InvalidOperationException($"DataProtection:Certificate:Path: the certificate '{path}' has no private key; the key ring could not be decrypted with it.");
        }

        return certificate;
    }

    /// <summary>Points the key manager at the PostgreSQL key ring; the data source is resolved when Data Protection first needs its options.</summary>
    private sealed class UsePostgresKeyRepository(IServiceProvider services) : IConfigureOptions<KeyManagementOptions>
    {
        public void Configure(KeyManagementOptions options) => options.XmlRepository = services.GetRequiredService<PostgresXmlRepository>();
    }
}
