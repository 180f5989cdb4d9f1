// DynamoDB Local bound to one address (127.0.0.1 unless -Ddynamodb.local.host says otherwise).
//
// DynamoDB Local has no option for the address it listens on: it opens its port on every
// interface, without authentication. This launcher builds the server exactly as the jar's own
// ServerRunner does (same command-line options), sets the address of its Jetty connector, and
// starts it. Run in Java's source-file mode by infra/dynamodb_local.py:
//   java -cp DynamoDBLocal.jar infra/DynamoDBLocalLoopback.java -port 8000 -inMemory
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.Server;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class DynamoDBLocalLoopback {
    public static void main(String[] args) throws Exception {
        String host = System.getProperty("dynamodb.local.host", "127.0.0.1");
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server server = (Server) field.get(proxy);
        Connector[] connectors = server.getConnectors();
        if (connectors.length == 0) {
            throw new IllegalStateException("DynamoDB Local has no connector to bind");
        }
        for (Connector connector : connectors) {
            ((ServerConnector) connector).setHost(host);
        }
        proxy.start();
    }
}
