// The chat page: sign in, watch #general as a materialised view, send messages over SQL.
import { KalamClient } from "/client/index.js";

const config = await (await fetch("/config.json")).json();
const $ = (id) => document.getElementById(id);
const client = new KalamClient({
  url: config.kalamdbUrl,
  onConnectionEvent: (ev) => {
    if (ev.type === "state") $("status").textContent = ev.state;
  },
});
let me = "";

function render(state) {
  const list = $("messages");
  list.replaceChildren(
    ...state.rows.map((m) => {
      const li = document.createElement("li");
      li.className = "msg" + (m.author === me ? " mine" : "");
      li.dataset.id = m.id;
      const a = document.createElement("span");
      a.className = "author";
      a.textContent = m.author;
      const b = document.createElement("span");
      b.className = "body";
      b.textContent = m.body;
      li.append(a, b);
      return li;
    }),
  );
  $("error").textContent = state.error && !state.error.willRecover ? `${state.error.code}: ${state.error.message}` : "";
}

$("login").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    const res = await client.login($("user").value, $("password").value);
    me = res.user.id;
  } catch (err) {
    $("error").textContent = `${err.code}: ${err.message}`;
    return;
  }
  $("login").hidden = true;
  $("composer").hidden = false;
  const view = client.liveView("SELECT id, author, body FROM chat.messages WHERE room = 'general'", { orderBy: "id" });
  view.subscribe(() => render(view.getState()));
  await view.ready();
  render(view.getState());
  document.body.dataset.ready = "true";
});

$("composer").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = $("body").value.trim();
  if (!body) return;
  $("body").value = "";
  try {
    await client.sql("INSERT INTO chat.messages (room, body) VALUES ('general', $1)", [body]);
  } catch (err) {
    $("error").textContent = `${err.code}: ${err.message}`;
  }
});
