# SPDX-License-Identifier: LGPL-2.1-or-later
"""A container app whose image cannot be pulled: the failed pull is a
failed task (as Marathon reports it), never a crash of berthd, and berthd
comes up again on the same store."""

import pytest


def _last_failure(sched, app_id):
    r = sched.get(f"/v2/apps{app_id}")
    if r.status_code != 200:
        return None
    return r.json()["app"].get("lastTaskFailure")


@pytest.mark.parametrize("image", ["localhost/fake_docker_url", "127.0.0.1:1/no/such:tag"])
def test_unpullable_image_is_a_failed_task(sched, image):
    app_id = "/unpullable"
    r = sched.post("/v2/apps", json={
        "id": app_id, "cpus": 0.1, "mem": 16, "instances": 1, "cmd": "sleep 600",
        "container": {"type": "DOCKER", "docker": {"image": image}}})
    assert r.status_code == 201, r.text

    failure = sched.wait_until(lambda: _last_failure(sched, app_id), 30,
                               "the app's lastTaskFailure")
    assert sched.berthd.running, sched.berthd.stderr()[-3000:]
    assert failure["state"] == "TASK_FAILED"
    assert failure["appId"] == app_id
    assert image in failure["message"] or "pull" in failure["message"].lower(), failure
    # the real client reads it too
    last = sched.client.get_app(app_id).last_task_failure
    assert last.state == "TASK_FAILED"
    assert last.message == failure["message"]
    # the scheduler keeps trying (with backoff) and berthd stays up
    sched.wait_until(lambda: _last_failure(sched, app_id)["taskId"] != failure["taskId"], 30,
                     "a second launch attempt")
    assert sched.get("/ping").status_code == 200

    # the app is stored: a restarted berthd must come up with it
    sched.berthd.restart()
    assert sched.get("/ping").status_code == 200
    sched.wait_until(lambda: (_last_failure(sched, app_id) or {}).get("state") == "TASK_FAILED",
                     30, "a failed task after the restart")
    assert sched.berthd.running

    # its deployment never finishes: DELETE it as a user would, with force
    sched.client.delete_app(app_id, force=True)
    sched.wait_until(lambda: sched.get(f"/v2/apps{app_id}").status_code == 404, 15,
                     "the app to be deleted")
    assert sched.get("/api/containers", params={"all": "1"}).json() == []
    assert sched.berthd.running
