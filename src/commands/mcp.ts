import {DevenvCommand} from '../cli/base.js';

export default class Mcp extends DevenvCommand {
  static summary = 'Serve the project to coding agents: a Model Context Protocol server on stdin/stdout';
  static description =
    "Tools status, exec, up, down, ps, logs, run, search and add return what the command's --json prints; resources devenv://devenv.toml (the parsed manifest) and devenv://environment (the names of the environment's variables, never values). exec, up, run and the environment's names are refused unless the project is allowed, as for the shell hook. Configure your agent to start 'devenv mcp' in the project.";
  static examples = ['<%= config.bin %> mcp', 'claude mcp add devenv -- devenv mcp'];

  async run() {
    await this.parse(Mcp);
    // The SDK loads here only: no other command pays for it.
    const {serveMcp} = await import('../cli/mcp.js');
    await serveMcp({cwd: this.cwd(), version: this.config.version});
  }
}
