// DynamoDB Local on 127.0.0.1 only. Its jar listens on every interface and has no option to bind one
// (ServerRunner builds a Jetty Server on a port alone), so this starts it as ServerRunner does and sets
// the connector's host before the server starts. local/dynamodb.py compiles it once per jar.
//
// It also drains when stopped (SIGTERM, SIGINT). DynamoDB Local answers a TransactWriteItems once its
// SQLite COMMIT is queued, not done (SQLiteDBAccess.commitTransaction hands the job to its SQLiteQueue
// and returns without waiting): a process that exits in between loses, whole, a transaction it
// acknowledged, which AWS never does (tests/integration/test_outage.py says what was measured). The hook
// stops Jetty, closes the database (its queue stops gracefully: what is queued runs) and waits for the
// queue's thread, so an acknowledged write is on disk before the process ends. A SIGKILL still can lose one.
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class LoopbackDynamoDBLocal {
    public static void main(String[] args) throws Exception {
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        for (Connector connector : ((Server) field.get(proxy)).getConnectors()) {
            ((ServerConnector) connector).setHost("127.0.0.1");
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> drain(proxy), "drain"));
        proxy.start();
    }

    static void drain(DynamoDBProxyServer proxy) {
        try {
            proxy.stop();
        } catch (Exception e) {
            System.err.println("drain: " + e);
        }
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (thread.getName().startsWith("SQLiteQueue")) {
                try {
                    thread.join(5000); // within local/dynamodb.py's 10 s before it kills
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }
}
