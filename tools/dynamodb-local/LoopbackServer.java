import java.lang.reflect.Field;
import java.util.Arrays;

import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * Starts DynamoDB Local listening on one address only. DynamoDB Local has no
 * option for it: its Jetty server listens on every interface. This launcher
 * builds the server from DynamoDB Local's own command line, sets the host of
 * its connector before it starts, and prints "listening on HOST:PORT" (the
 * port actually bound, so -port 0 picks a free one).
 *
 * Usage: java -cp DynamoDBLocal.jar LoopbackServer.java HOST [DynamoDB Local options]
 *
 * It never configures DynamoDB Local's telemetry (which ServerRunner.main does),
 * so nothing is sent; pass -disableTelemetry as well.
 */
public class LoopbackServer {
	public static void main(String[] args) throws Exception {
		if (args.length < 1) {
			System.err.println("usage: LoopbackServer HOST [DynamoDB Local options]");
			System.exit(2);
		}
		String host = args[0];
		String[] opts = Arrays.copyOfRange(args, 1, args.length);
		// DynamoDB Local refuses -port 0: give it a placeholder, bind port 0 below.
		boolean anyPort = false;
		for (int i = 0; i + 1 < opts.length; i++) {
			if (opts[i].equals("-port") && opts[i + 1].equals("0")) {
				opts[i + 1] = "8000";
				anyPort = true;
			}
		}
		DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(opts);
		if (proxy == null) {
			System.exit(2); // DynamoDB Local printed why
		}
		Field f = DynamoDBProxyServer.class.getDeclaredField("server");
		f.setAccessible(true);
		Server server = (Server) f.get(proxy);
		ServerConnector connector = null;
		for (Connector c : server.getConnectors()) {
			connector = (ServerConnector) c;
			connector.setHost(host);
			if (anyPort) {
				connector.setPort(0);
			}
		}
		if (connector == null) {
			System.err.println("DynamoDB Local has no connector to bind");
			System.exit(1);
		}
		proxy.start();
		System.out.println("listening on " + host + ":" + connector.getLocalPort());
		System.out.flush();
	}
}
