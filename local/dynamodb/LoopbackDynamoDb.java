import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * DynamoDB Local as its jar's main would start it, but listening on 127.0.0.1 only: the jar has no host
 * option and its Jetty binds every interface, so anyone on the network could read and write the tables.
 * Run with Java's source launcher (JEP 330) and the jar on the class path; it takes the jar's own options.
 */
public class LoopbackDynamoDb {
  private static final String HOST = "127.0.0.1";

  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Connector[] connectors = jettyOf(proxy).getConnectors();
    if (connectors.length == 0) refuse("its Jetty server has no connector");
    for (Connector connector : connectors) {
      if (!(connector instanceof ServerConnector)) refuse("unexpected connector " + connector.getClass().getName());
      ((ServerConnector) connector).setHost(HOST);
    }
    proxy.start();
    for (Connector connector : connectors) {
      String host = ((ServerConnector) connector).getHost();
      // start() reports a failed bind on stderr and returns; a connector not on HOST must not stay open.
      if (!HOST.equals(host)) refuse("a connector listens on " + host);
    }
  }

  /** The Jetty Server inside DynamoDBProxyServer (a private field: there is no accessor). */
  private static Server jettyOf(DynamoDBProxyServer proxy) throws ReflectiveOperationException {
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    return (Server) field.get(proxy);
  }

  private static void refuse(String why) {
    System.err.println("LoopbackDynamoDb: refusing to run DynamoDB Local, " + why);
    System.exit(70);
  }
}
