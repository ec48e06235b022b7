using System.Globalization;
using System.Xml.Linq;
using MediaActors.ServiceDefaults.Database;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace MediaActors.ServiceDefaults.DataProtection;

/// <summary>
/// Keeps the ASP.NET Core Data Protection key ring in the table <c>data_protection_keys</c> (migration
/// 0500_data_protection), so every host reading the same database shares the keys.
/// </summary>
/// <remarks>
/// <para>
/// The elements are stored as the key manager hands them over. Without an <c>IXmlEncryptor</c> (see
/// <see cref="DataProtectionRegistration.AddMediaActorsDataProtection"/>, <c>DataProtection:Certificate:Path</c>)
/// the key material is plain text in the table: anyone who can read <c>data_protection_keys</c> can decrypt
/// every protected secret. Restrict access to the table and to database backups accordingly.
/// </para>
/// <para>
/// Hosts that start together on a database without a usable key would each create one, and a host that
/// loaded its key ring before another host stored its key does not see that key until its next refresh
/// (up to 24 hours), so it could not read what the other host protected. To prevent this, a read that finds no
/// usable key keeps a PostgreSQL advisory lock until this host stores its new key (or
/// <see cref="CreationLockHold"/> passes): other hosts wait, then read the key instead of creating their own.
/// </para>
/// <para>Rows are never deleted (the repository is not an <c>IDeletableXmlRepository</c>): expired keys must stay
/// to read secrets protected long ago.</para>
/// </remarks>
public sealed class PostgresXmlRepository : IXmlRepository, IDisposable
{
    /// <summary>Advisory lock key serializing the creation of a key when the ring has no usable key ("MADPKEYS").</summary>
    public const long CreationLockKey = 0x4D41_4450_4B45_5953;

    /// <summary>The longest this host keeps other hosts waiting after it read a key ring with no usable key.</summary>
    public static readonly TimeSpan CreationLockHold = TimeSpan.FromSeconds(15);

    // DefaultKeyResolver accepts a key activated up to this much in the future (server-to-server clock skew).
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger _logger;
    private readonly Func<SchemaMigrator?>? _migrator;
    private readonly Lock _gate = new();
    private NpgsqlConnection? _creationLock;
    private Timer? _creationLockTimer;
    private int _migrated;

    /// <param name="dataSource">The runtime's database.</param>
    /// <param name="logger">Optional logger.</param>
    /// <param name="migrator">
    /// Optional: when the table does not exist yet (Data Protection loads its key ring in a hosted service that
    /// may start before the runtime's schema migration), the schema migrations are applied once and the read retried.
    /// </param>
    public PostgresXmlRepository(NpgsqlDataSource dataSource, ILogger<PostgresXmlRepository>? logger = null, Func<SchemaMigrator?>? migrator = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        _dataSource = dataSource;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _migrator = migrator;
    }

    public IReadOnlyCollection<XElement> GetAllElements() => WithSchema(ReadAll);

    public void StoreElement(XElement element, string friendlyName)
    {
        ArgumentNullException.ThrowIfNull(element);
        var name = string.IsNullOrWhiteSpace(friendlyName) ? $"element-{Guid.NewGuid():N}" : friendlyName;
        try
        {
            var inserted = WithSchema(() =>
            {
                using var connection = _dataSource.OpenConnection();
                using var command = new NpgsqlCommand(
                    "INSERT INTO data_protection_keys (friendly_name, xml) VALUES ($1, $2) ON CONFLICT (friendly_name) DO NOTHING", connection);
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = element.ToString(SaveOptions.DisableFormatting) });
                return command.ExecuteNonQuery();
            });
            if (inserted == 0)
            {
                _logger.LogWarning("Data protection element {FriendlyName} is already stored; the stored one is kept.", name);
            }
            else
            {
                _logger.LogInformation("Stored data protection element {FriendlyName}.", name);
            }
        }
        finally
        {
            ReleaseCreationLock();
        }
    }

    public void Dispose() => ReleaseCreationLock();

    private List<XElement> ReadAll()
    {
        var connection = _dataSource.OpenConnection();
        var holding = false;
        try
        {
            Execute(connection, $"SELECT pg_advisory_lock({CreationLockKey})");
            var elements = new List<XElement>();
            using (var command = new NpgsqlCommand("SELECT xml FROM data_protection_keys ORDER BY created_at, friendly_name", connection))
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    elements.Add(XElement.Parse(reader.GetString(0)));
                }
            }

            if (!HasUsableKey(elements, DateTimeOffset.UtcNow))
            {
                // The key manager is about to create a key: keep other hosts out until it is stored.
                HoldCreationLock(connection);
                holding = true;
            }

            return elements;
        }
        finally
        {
            if (!holding)
            {
                Unlock(connection);
            }
        }
    }

    /// <summary>
    /// Whether a key could be the default key now. Deliberately more permissive than the key resolver (revocations
    /// and decryptability are ignored): when this says yes, the lock is not held, at worst allowing a second key.
    /// </summary>
    internal static bool HasUsableKey(IEnumerable<XElement> elements, DateTimeOffset now)
    {
        foreach (var key in elements.Where(e => e.Name.LocalName == "key"))
        {
            if (!TryDate(key.Element("activationDate"), out var activation) || !TryDate(key.Element("expirationDate"), out var expiration))
            {
                return true; // a format this code does not know: do not make anyone wait
            }

            if (activation <= now + ClockSkew && expiration > now)
            {
                return true;
            }
        }

        return false;
    }

    private static bool TryDate(XElement? element, out DateTimeOffset value)
    {
        value = default;
        return element is not null
            && DateTimeOffset.TryParse(element.Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out value);
    }

    private void HoldCreationLock(NpgsqlConnection connection)
    {
        NpgsqlConnection? stale;
        Timer? staleTimer;
        lock (_gate)
        {
            // Only possible if the previous holder's connection broke (the server then released its lock).
            (stale, staleTimer) = (_creationLock, _creationLockTimer);
            _creationLock = connection;
            _creationLockTimer = new Timer(static state => ((PostgresXmlRepository)state!).ReleaseCreationLock(), this, CreationLockHold, Timeout.InfiniteTimeSpan);
        }

        staleTimer?.Dispose();
        if (stale is not null)
        {
            Unlock(stale);
        }
    }

    private void ReleaseCreationLock()
    {
        NpgsqlConnection? connection;
        Timer? timer;
        lock (_gate)
        {
            (connection, timer) = (_creationLock, _creationLockTimer);
            (_creationLock, _creationLockTimer) = (null, null);
        }

        timer?.Dispose();
        if (connection is not null)
        {
            Unlock(connection);
        }
    }

    private void Unlock(NpgsqlConnection connection)
    {
        try
        {
            if (connection.State == System.Data.ConnectionState.Open)
            {
                Execute(connection, "SELECT pg_advisory_unlock_all()");
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            // A broken connection: the server has released its locks with the session.
            _logger.LogDebug(ex, "Could not release the data protection key lock explicitly.");
        }
        finally
        {
            connection.Dispose();
        }
    }

    private T WithSchema<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable && _migrator?.Invoke() is { } migrator
            && Interlocked.Exchange(ref _migrated, 1) == 0)
        {
            _logger.LogInformation("Table data_protection_keys does not exist yet: applying the schema migrations before reading the key ring.");
            migrator.MigrateAsync().GetAwaiter().GetResult();
            return action();
        }
    }

    private static void Execute(NpgsqlConnection connection, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }
}
