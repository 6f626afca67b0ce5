/*
 * KafkaAcls.java -- applies deploy/kafka-acls.conf to a Kafka cluster with
 * the Admin client of the broker's own jars, in one CreateAcls (or
 * DeleteAcls) request.  Run by deploy/kafka-acls.sh in Java's single-file
 * source mode; librdkafka 2.0.2's admin API cannot name transactional ids.
 *
 * usage: java -cp 'KAFKA_LIB/*' KafkaAcls.java add|delete BOOTSTRAP
 *            CLIENT_PROPERTIES TABLE PREFIX
 * Prints one line: how many ACLs were created or deleted.
 *
 * The controller accepts ACLs before the broker's authorizer applies them
 * (KRaft's metadata publisher does, asynchronously), so a request made
 * right after CreateAcls returns may still be refused ("Authorization
 * failed").  Both commands therefore wait, up to 60 s, until the broker
 * the Admin client asks (DescribeAcls, answered from its authorizer)
 * lists every ACL added, or none of those deleted.
 */
import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;

public class KafkaAcls {
    static <T extends Enum<T>> T parse(Class<T> type, String s, int line) {
        try {
            return Enum.valueOf(type, s.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("line " + line + ": unknown "
                + type.getSimpleName() + " '" + s + "'");
        }
    }

    /* Waits until the broker lists every ACL of want (present) or none of
     * them (absent), polling DescribeAcls; fails after 60 s. */
    static void await(Admin admin, List<AclBinding> want, boolean present) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (;;) {
            Collection<AclBinding> have = admin.describeAcls(AclBindingFilter.ANY)
                .values().get(60, TimeUnit.SECONDS);
            Set<AclBinding> seen = new HashSet<>(have);
            int n = 0;
            for (AclBinding b : want)
                if (seen.contains(b))
                    n++;
            if (present ? n == want.size() : n == 0)
                return;
            if (System.nanoTime() > end)
                throw new IllegalStateException("the broker lists " + n + " of the "
                    + want.size() + " ACLs after 60 s");
            Thread.sleep(50);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 5 || !(args[0].equals("add") || args[0].equals("delete"))) {
            System.err.println("usage: KafkaAcls add|delete BOOTSTRAP CLIENT_PROPERTIES TABLE PREFIX");
            System.exit(2);
        }
        String prefix = args[4];
        Properties props = new Properties();
        try (InputStream in = new FileInputStream(args[2])) {
            props.load(in);
        }
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[1]);

        List<AclBinding> acls = new ArrayList<>();
        List<String> lines = Files.readAllLines(Paths.get(args[3]));
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i).replaceAll("#.*", "").trim();
            if (l.isEmpty())
                continue;
            String[] f = l.split("\\s+");
            if (f.length < 5)
                throw new IllegalArgumentException("line " + (i + 1) + ": want user resource pattern name operation...");
            ResourcePattern res = new ResourcePattern(parse(ResourceType.class, f[1], i + 1),
                prefix + f[3], parse(PatternType.class, f[2], i + 1));
            for (int k = 4; k < f.length; k++)
                acls.add(new AclBinding(res, new AccessControlEntry("User:" + f[0], "*",
                    parse(AclOperation.class, f[k], i + 1), AclPermissionType.ALLOW)));
        }

        try (Admin admin = Admin.create(props)) {
            if (args[0].equals("add")) {
                admin.createAcls(acls).all().get(60, TimeUnit.SECONDS);
                await(admin, acls, true);
                System.out.println("created " + acls.size() + " ACLs for prefix '" + prefix + "'");
            } else {
                List<AclBindingFilter> filters = new ArrayList<>();
                for (AclBinding b : acls)
                    filters.add(new AclBindingFilter(
                        new ResourcePatternFilter(b.pattern().resourceType(), b.pattern().name(),
                                                  b.pattern().patternType()),
                        new AccessControlEntryFilter(b.entry().principal(), null,
                                                     b.entry().operation(), AclPermissionType.ALLOW)));
                int n = 0;
                for (var r : admin.deleteAcls(filters).all().get(60, TimeUnit.SECONDS))
                    n++;
                await(admin, acls, false);
                System.out.println("deleted " + n + " ACLs for prefix '" + prefix + "'");
            }
        }
    }
}
